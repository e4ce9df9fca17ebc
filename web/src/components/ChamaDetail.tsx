/** One chama: totals, daily chart, contributions and payouts (with the user's pending rows
 * inline), members, and the actions: stack, custom contribution, payout (admin only). */
import { type FormEvent, useState } from "react";
import { type Address, isAddress } from "viem";
import { useApp } from "../appContext";
import { accountHref, dayLabel, sameAddress, short } from "../format";
import { CHAMA_QUERY, type ChamaData } from "../queries";
import { useActions } from "../sync/react";
import type { Action } from "../sync/types";
import { SAT } from "../../../common/chain";
import { formatAmount, parseAmount } from "../units";
import { ActionRows } from "./ActionRows";
import { useIndexedQuery } from "../hooks/useIndexedQuery";
import { useClickIntent } from "../intent";
import { errorMessage } from "../../../common/errors";

const STACK_SATS = 1_000n;

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
  const isAdmin = sameAddress(wallet?.address, chama.creator);

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

      <ContributeBox chamaId={id} minimum={BigInt(chama.contributionAmount)} />
      {isAdmin ? <PayoutBox chamaId={id} balance={BigInt(chama.balance)} /> : null}

      <h2>Daily contributions</h2>
      <DailyChart days={chama.days.items} />

      <h2>Contributions</h2>
      <table className="rows" data-testid="contributions">
        <thead>
          <tr>
            <th>Status</th>
            <th>Contributor</th>
            <th className="amount">Amount</th>
            <th>Block</th>
            <th>Transaction</th>
          </tr>
        </thead>
        <tbody>
          <ActionRows actions={openActions(actions, id, "contribution", contributionHashes)} columns={5} testId="contribution-action-row" />
          {contributions.map((c) => (
            <tr key={c.id} data-testid="contribution-row" data-hash={c.transactionHash}>
              <td>
                <span className={`badge ${mine.has(c.transactionHash.toLowerCase()) ? "badge-reconciled" : "badge-indexed"}`}>
                  {mine.has(c.transactionHash.toLowerCase()) ? "yours · indexed" : "indexed"}
                </span>
              </td>
              <td>
                <a href={accountHref(c.contributor)}>{short(c.contributor)}</a>
              </td>
              <td className="amount">{formatAmount(BigInt(c.amount), unit)}</td>
              <td>{c.blockNumber}</td>
              <td>
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
            <th>Status</th>
            <th>Recipient</th>
            <th className="amount">Amount</th>
            <th>Block</th>
            <th>Transaction</th>
          </tr>
        </thead>
        <tbody>
          <ActionRows actions={openActions(actions, id, "payout", payoutHashes)} columns={5} testId="payout-action-row" />
          {payouts.map((p) => (
            <tr key={p.id} data-testid="payout-row" data-hash={p.transactionHash}>
              <td>
                <span className="badge badge-indexed">indexed</span>
              </td>
              <td>
                <a href={accountHref(p.recipient)}>{short(p.recipient)}</a>
              </td>
              <td className="amount">{formatAmount(BigInt(p.amount), unit)}</td>
              <td>{p.blockNumber}</td>
              <td>
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
      <table className="rows">
        <thead>
          <tr>
            <th>Member</th>
            <th className="amount">Contributed</th>
            <th className="amount">Received</th>
            <th>Contributions</th>
          </tr>
        </thead>
        <tbody>
          {chama.members.items.map((m) => (
            <tr key={m.address}>
              <td>
                <a href={accountHref(m.address)}>{short(m.address)}</a>
              </td>
              <td className="amount">{formatAmount(BigInt(m.totalContributed), unit)}</td>
              <td className="amount">{formatAmount(BigInt(m.totalReceived), unit)}</td>
              <td>{m.contributionCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function ContributeBox({ chamaId, minimum }: { chamaId: bigint; minimum: bigint }) {
  const { unit, submit, wallet } = useApp();
  const [custom, setCustom] = useState("");
  const [error, setError] = useState<string>();
  const stack = STACK_SATS * SAT;
  // A double-click is one intent: its second click returns the first click's action.
  const stackIntent = useClickIntent();

  const onCustom = (event: FormEvent) => {
    event.preventDefault();
    try {
      const amount = parseAmount(custom, unit);
      if (amount === 0n) throw new Error("a contribution must be more than zero");
      submit({ kind: "contribution", chamaId, amount });
      setCustom("");
      setError(undefined);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <div className="panel actions">
      <button
        type="button"
        className="primary"
        data-testid="stack-button"
        disabled={!wallet}
        onClick={(event) => submit({ kind: "contribution", chamaId, amount: stack }, { intentId: stackIntent(event) })}
        title={stack < minimum ? `Below this chama's minimum of ${formatAmount(minimum, unit)}: it will be refused` : undefined}
      >
        Stack {STACK_SATS.toString()} sats
      </button>
      <form onSubmit={onCustom} className="inline">
        <input
          value={custom}
          onChange={(e) => setCustom(e.target.value)}
          placeholder={`amount in ${unit}`}
          inputMode="decimal"
          data-testid="custom-amount"
        />
        <button type="submit" disabled={!wallet} data-testid="contribute-button">
          Contribute
        </button>
      </form>
      {error ? <p className="error">{error}</p> : null}
    </div>
  );
}

function PayoutBox({ chamaId, balance }: { chamaId: bigint; balance: bigint }) {
  const { unit, submit } = useApp();
  const [recipient, setRecipient] = useState("");
  const [amount, setAmount] = useState("");
  const [error, setError] = useState<string>();

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    try {
      if (!isAddress(recipient, { strict: false })) throw new Error(`"${recipient}" is not an address`);
      const wei = parseAmount(amount, unit);
      if (wei === 0n) throw new Error("a payout must be more than zero");
      if (wei > balance) throw new Error(`the pot holds only ${formatAmount(balance, unit)}`);
      submit({ kind: "payout", chamaId, recipient: recipient as Address, amount: wei });
      setAmount("");
      setError(undefined);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <form className="panel form" onSubmit={onSubmit}>
      <h2>Pay out (admin)</h2>
      <label>
        Recipient <input value={recipient} onChange={(e) => setRecipient(e.target.value)} placeholder="0x…" />
      </label>
      <label>
        Amount ({unit}) <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" />
      </label>
      <button type="submit">Pay out</button>
      {error ? <p className="error">{error}</p> : null}
    </form>
  );
}

/** Bars of contributed amount per UTC day, scaled with bigint arithmetic. */
function DailyChart({ days }: { days: { day: number; contributed: string; contributionCount: number }[] }) {
  const { unit } = useApp();
  if (days.length === 0) return <p className="muted">No contributions yet.</p>;
  const values = days.map((d) => BigInt(d.contributed));
  const max = values.reduce((a, b) => (b > a ? b : a), 1n);
  const width = 600;
  const height = 120;
  const bar = width / days.length;
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height + 16}`} role="img" aria-label="Contributions per day">
      {days.map((d, i) => {
        // A per-mille ratio is small: safe to make a Number for drawing.
        const h = (Number((values[i]! * 1000n) / max) / 1000) * height;
        return (
          <g key={d.day}>
            <rect x={i * bar + 2} y={height - h} width={Math.max(1, bar - 4)} height={h}>
              <title>
                {dayLabel(d.day)}: {formatAmount(values[i]!, unit)} in {d.contributionCount} contributions
              </title>
            </rect>
            {days.length <= 20 || i % 3 === 0 ? (
              <text x={i * bar + bar / 2} y={height + 12} textAnchor="middle">
                {dayLabel(d.day)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
