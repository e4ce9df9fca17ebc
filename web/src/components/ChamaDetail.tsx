/** One chama: totals, every member's actions in flight (the API's ledger), daily chart,
 * contributions and payouts (with the user's pending rows inline), members, and the actions:
 * stack, custom contribution, payout (admin only). */
import { type FormEvent, Suspense, lazy, useState } from "react";
import type { Address } from "viem";
import { useApp } from "../appContext";
import { accountHref, sameAddress, short } from "../format";
import { CHAMA_QUERY, type ChamaData } from "../queries";
import { useActions } from "../sync/react";
import type { Action } from "../sync/types";
import { SAT } from "../../../common/chain";
import { formatAmount, readAmount } from "../units";
import { AddressError, type ChamaFacts, checkAction, parseRecipient } from "../checks";
import { chamaErrorSentence } from "../chamaErrors";
import { type Review, ReviewDialog } from "./ReviewDialog";
import { ActionRows } from "./ActionRows";
import { useIndexedQuery } from "../hooks/useIndexedQuery";
import { useLedgerFeed } from "../hooks/useLedger";
import { LedgerRows } from "./LedgerRows";

const STACK_SATS = 1_000n;

/** The chart is its own chunk, loaded with the first chama page opened. */
const DailyChart = lazy(() => import("./DailyChart").then((m) => ({ default: m.DailyChart })));

/** The user's actions of `kind` on this chama that the indexed list does not show yet. */
function openActions(actions: Action[], chamaId: bigint, kind: "contribution" | "payout", indexed: Set<string>): Action[] {
  return actions
    .filter((a) => a.params.kind === kind && a.params.chamaId === chamaId)
    .filter((a) => !(a.status === "reconciled" && a.hash && indexed.has(a.hash.toLowerCase())))
    .reverse();
}

export function ChamaDetail({ id }: { id: bigint }) {
  const { unit, wallet } = useApp();
  const result = useIndexedQuery<ChamaData, { id: string }>({ query: CHAMA_QUERY, variables: { id: id.toString() } });
  const actions = useActions();
  const ledger = useLedgerFeed(id);
  const chama = result.data?.chama;

  if (!chama) {
    // The index is unreachable or slow: the user's own actions still show, from the store.
    const none = new Set<string>();
    const own = [...openActions(actions, id, "contribution", none), ...openActions(actions, id, "payout", none)].filter(
      (a) => a.status !== "reconciled",
    );
    return (
      <section>
        <p>
          <a href="#/">← All chamas</a>
        </p>
        {result.error ? (
          <p className="error">Could not load chama #{id.toString()} from the index: {result.error.message}</p>
        ) : result.data ? (
          <p className="error">There is no chama #{id.toString()} in the index.</p>
        ) : (
          <p className="muted">Loading chama #{id.toString()}…</p>
        )}
        {own.length > 0 ? (
          <>
            <h2>Your actions on this chama</h2>
            <table className="rows">
              <tbody>
                <ActionRows actions={own} columns={5} testId="contribution-action-row" />
              </tbody>
            </table>
          </>
        ) : null}
      </section>
    );
  }

  const contributions = chama.contributions.items;
  const payouts = chama.payouts.items;
  const contributionHashes = new Set(contributions.map((c) => c.transactionHash.toLowerCase()));
  const payoutHashes = new Set(payouts.map((p) => p.transactionHash.toLowerCase()));
  const mine = new Set(actions.flatMap((a) => a.hashes.map((h) => h.toLowerCase())));
  // Shown once: this browser's own rows and the indexed rows say more than the ledger's line.
  // An own action is known by its nonce too: the stream can bring its record before the
  // relay's answer has given this tab the hash.
  const shownElsewhere = new Set([...mine, ...contributionHashes, ...payoutHashes]);
  const ownNonces = new Set(actions.flatMap((a) => (a.nonce === undefined ? [] : [`${a.account.toLowerCase()}:${a.nonce}`])));
  const isAdmin = sameAddress(wallet?.address, chama.creator);
  const facts: ChamaFacts = {
    id,
    name: chama.name,
    minimum: BigInt(chama.contributionAmount),
    balance: BigInt(chama.balance),
    admin: chama.creator,
  };

  return (
    <section>
      <p>
        <a href="#/">← All chamas</a>
      </p>
      <h1 data-testid="chama-title">
        #{chama.id} {chama.name}
      </h1>
      <div className="stats">
        <div>
          <span className="label">Balance</span>
          <strong data-testid="chama-balance">{formatAmount(BigInt(chama.balance), unit)}</strong>
        </div>
        <div>
          <span className="label">Contributed</span>
          {formatAmount(BigInt(chama.totalContributed), unit)}
        </div>
        <div>
          <span className="label">Paid out</span>
          {formatAmount(BigInt(chama.totalPaidOut), unit)}
        </div>
        <div>
          <span className="label">Minimum</span>
          {formatAmount(BigInt(chama.contributionAmount), unit)}
        </div>
        <div>
          <span className="label">Admin</span>
          <a href={accountHref(chama.creator)}>{short(chama.creator)}</a>
        </div>
      </div>

      <ContributeBox chama={facts} />
      {isAdmin ? (
        <PayoutBox chama={facts} />
      ) : (
        <p className="muted" data-testid="payout-admin-only">
          Only the admin <a href={accountHref(chama.creator)}>{short(chama.creator)}</a> can pay out from this chama.
        </p>
      )}

      <LedgerRows feed={ledger} shown={shownElsewhere} ownNonces={ownNonces} />

      <h2>Daily contributions</h2>
      <Suspense fallback={<p className="muted" data-testid="chart-loading">Loading the chart…</p>}>
        <DailyChart days={chama.days.items} />
      </Suspense>

      <h2>Contributions</h2>
      <table className="rows" data-testid="contributions">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Contributor</th>
            <th scope="col" className="amount">Amount</th>
            <th scope="col">Block</th>
            <th scope="col">Transaction</th>
          </tr>
        </thead>
        <tbody>
          <ActionRows actions={openActions(actions, id, "contribution", contributionHashes)} columns={5} testId="contribution-action-row" />
          {contributions.map((c) => (
            <tr key={c.id} data-testid="contribution-row" data-hash={c.transactionHash}>
              <td data-label="Status">
                <span className={`badge ${mine.has(c.transactionHash.toLowerCase()) ? "badge-reconciled" : "badge-indexed"}`}>
                  {mine.has(c.transactionHash.toLowerCase()) ? "yours · indexed" : "indexed"}
                </span>
              </td>
              <td data-label="Contributor">
                <a href={accountHref(c.contributor)}>{short(c.contributor)}</a>
              </td>
              <td className="amount" data-label="Amount">{formatAmount(BigInt(c.amount), unit)}</td>
              <td data-label="Block">{c.blockNumber}</td>
              <td data-label="Transaction">
                <code>{short(c.transactionHash)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Payouts</h2>
      <table className="rows" data-testid="payouts">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Recipient</th>
            <th scope="col" className="amount">Amount</th>
            <th scope="col">Block</th>
            <th scope="col">Transaction</th>
          </tr>
        </thead>
        <tbody>
          <ActionRows actions={openActions(actions, id, "payout", payoutHashes)} columns={5} testId="payout-action-row" />
          {payouts.map((p) => (
            <tr key={p.id} data-testid="payout-row" data-hash={p.transactionHash}>
              <td data-label="Status">
                <span className="badge badge-indexed">indexed</span>
              </td>
              <td data-label="Recipient">
                <a href={accountHref(p.recipient)}>{short(p.recipient)}</a>
              </td>
              <td className="amount" data-label="Amount">{formatAmount(BigInt(p.amount), unit)}</td>
              <td data-label="Block">{p.blockNumber}</td>
              <td data-label="Transaction">
                <code>{short(p.transactionHash)}</code>
              </td>
            </tr>
          ))}
          {payouts.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted">
                No payouts yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>

      <h2>Members</h2>
      <table className="rows" data-testid="members">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col" className="amount">Contributed</th>
            <th scope="col" className="amount">Received</th>
            <th scope="col">Contributions</th>
          </tr>
        </thead>
        <tbody>
          {chama.members.items.map((m) => (
            <tr key={m.address}>
              <td className="wide" data-label="Member">
                <a href={accountHref(m.address)}>{short(m.address)}</a>
              </td>
              <td className="amount" data-label="Contributed">{formatAmount(BigInt(m.totalContributed), unit)}</td>
              <td className="amount" data-label="Received">{formatAmount(BigInt(m.totalReceived), unit)}</td>
              <td data-label="Contributions">{m.contributionCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function ContributeBox({ chama }: { chama: ChamaFacts }) {
  const { unit, wallet } = useApp();
  const [custom, setCustom] = useState("");
  // The review open, and whether it came from the custom field (cleared once confirmed).
  const [review, setReview] = useState<Review & { fromCustom?: boolean }>();
  const stack = STACK_SATS * SAT;
  const stackRefused = stack < chama.minimum;

  // Checked as the person types: the amount rule first, then what the chama would refuse.
  const typed = custom === "" ? undefined : readAmount(custom, unit);
  const customParams = typed?.amount === undefined ? undefined : ({ kind: "contribution", chamaId: chama.id, amount: typed.amount } as const);
  const error = typed?.error?.message ?? (customParams ? checkAction({ params: customParams, unit, chama })[0] : undefined);

  const onCustom = (event: FormEvent) => {
    event.preventDefault();
    // The button is disabled then, but Enter in the field submits too: open nothing.
    if (!customParams || error) return;
    setReview({ params: customParams, chama, fromCustom: true });
  };

  return (
    <div className="panel actions">
      <div>
        <button
          type="button"
          className="primary"
          data-testid="stack-button"
          disabled={!wallet || stackRefused}
          aria-describedby={stackRefused ? "stack-reason" : undefined}
          onClick={() => setReview({ params: { kind: "contribution", chamaId: chama.id, amount: stack }, chama })}
        >
          Stack {STACK_SATS.toString()} sats
        </button>
        {stackRefused ? (
          <p id="stack-reason" className="warn small" data-testid="stack-reason">
            {chamaErrorSentence({ name: "BelowMinimum", args: [stack, chama.minimum], unit })}
          </p>
        ) : null}
      </div>
      <form onSubmit={onCustom} className="field contribute-form">
        <label htmlFor="custom-amount">Or another amount ({unit})</label>
        <span className="inline">
          <input
            id="custom-amount"
            value={custom}
            onChange={(e) => setCustom(e.target.value)}
            placeholder={`amount in ${unit}`}
            inputMode="decimal"
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "custom-amount-error" : undefined}
            data-testid="custom-amount"
          />
          <button type="submit" disabled={!wallet || !customParams || error !== undefined} data-testid="contribute-button">
            Contribute
          </button>
        </span>
        {error ? (
          <p id="custom-amount-error" className="error small" data-testid="custom-amount-error">
            {error}
          </p>
        ) : null}
      </form>
      {review ? <ReviewDialog review={review} onClose={() => setReview(undefined)} onSent={() => review.fromCustom && setCustom("")} /> : null}
    </div>
  );
}

function PayoutBox({ chama }: { chama: ChamaFacts }) {
  const { unit, wallet } = useApp();
  const [recipient, setRecipient] = useState("");
  const [amount, setAmount] = useState("");
  const [review, setReview] = useState<Review>();

  const to = recipient.trim() === "" ? undefined : readRecipient(recipient);
  const typed = amount === "" ? undefined : readAmount(amount, unit);
  const params =
    to?.address !== undefined && typed?.amount !== undefined
      ? ({ kind: "payout", chamaId: chama.id, recipient: to.address, amount: typed.amount } as const)
      : undefined;
  const amountError =
    typed?.error?.message ??
    (typed?.amount !== undefined
      ? checkAction({ params: { kind: "payout", chamaId: chama.id, recipient: to?.address ?? ONE, amount: typed.amount }, unit, chama, account: wallet?.address })[0]
      : undefined);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!params || to?.error || amountError) return;
    setReview({ params, chama });
  };

  return (
    <form className="panel form" onSubmit={onSubmit}>
      <h2>Pay out (admin)</h2>
      <label>
        Recipient{" "}
        <input
          value={recipient}
          onChange={(e) => setRecipient(e.target.value)}
          placeholder="0x…"
          spellCheck={false}
          autoCapitalize="off"
          aria-invalid={to?.error ? true : undefined}
          aria-describedby={to?.error ? "payout-recipient-error" : undefined}
          data-testid="payout-recipient"
        />
      </label>
      {to?.error ? (
        <p id="payout-recipient-error" className="error small" data-testid="payout-recipient-error">
          {to.error}
        </p>
      ) : null}
      <label>
        Amount ({unit}){" "}
        <input
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          inputMode="decimal"
          aria-invalid={amountError ? true : undefined}
          aria-describedby={amountError ? "payout-amount-error" : undefined}
          data-testid="payout-amount"
        />
      </label>
      {amountError ? (
        <p id="payout-amount-error" className="error small" data-testid="payout-amount-error">
          {amountError}
        </p>
      ) : null}
      <button type="submit" disabled={!wallet || !params || to?.error !== undefined || amountError !== undefined} data-testid="payout-button">
        Pay out
      </button>
      {review ? <ReviewDialog review={review} onClose={() => setReview(undefined)} onSent={() => setAmount("")} /> : null}
    </form>
  );
}

/** A stand-in recipient for checking an amount before the address is typed (not the zero
 * address, which has its own sentence). */
const ONE: Address = "0x0000000000000000000000000000000000000001";

function readRecipient(text: string): { address: Address; error?: undefined } | { address?: undefined; error: string } {
  try {
    return { address: parseRecipient(text) };
  } catch (error) {
    if (error instanceof AddressError) return { error: error.message };
    throw error;
  }
}
