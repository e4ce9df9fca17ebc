/** One address: the chamas it administers, its memberships, and everything it did, in words and
 * newest first; for the connected account also its actions the index does not show yet. */
import type { ReactNode } from "react";
import { useApp } from "../appContext";
import { accountHref, sameAddress, short } from "../format";
import { ACCOUNT_QUERY, type AccountData } from "../queries";
import { useActions } from "../sync/react";
import type { Action } from "../sync/types";
import { type Unit, formatAmount } from "../units";
import { ActionRows } from "./ActionRows";
import { useIndexedQuery } from "../hooks/useIndexedQuery";
import "../account.css";

/** How many of the address's events the page lists (the query fetches each kind's newest this many). */
const ACTIVITY_LIMIT = 50;

/** One indexed event the address took part in, said in words. */
type Activity = { id: string; block: bigint; logIndex: number; hash: string; kind: "contributed" | "received" | "paid" | "created"; text: ReactNode };

/** "#1 Mama Mboga Savers", linked to the chama; a long name is cut, whole in the title. */
function ChamaRef({ id, name }: { id: string; name: string | undefined }) {
  const label = name === undefined ? `#${id}` : `#${id} ${name}`;
  return (
    <a href={`#/chama/${id}`} className="chama-ref" title={label} data-testid="chama-ref">
      {label}
    </a>
  );
}

/** Newest first: by block, then by position in the block (a creation, which has no log index here, last). */
function newestFirst(a: Activity, b: Activity): number {
  if (a.block !== b.block) return a.block > b.block ? -1 : 1;
  return b.logIndex - a.logIndex;
}

function activityOf(data: AccountData, address: string, unit: Unit): Activity[] {
  const byId = new Map<string, Activity>();
  const add = (activity: Activity) => {
    // A payout the admin made to itself is one event: "Received" says it.
    if (!byId.has(activity.id) || activity.kind === "received") byId.set(activity.id, activity);
  };
  for (const c of data.contributions.items) {
    add({
      id: c.id,
      block: BigInt(c.blockNumber),
      logIndex: c.logIndex,
      hash: c.transactionHash,
      kind: "contributed",
      text: (
        <>
          Contributed {formatAmount(BigInt(c.amount), unit)} to <ChamaRef id={c.chamaId} name={c.chama?.name} />
        </>
      ),
    });
  }
  for (const p of data.payouts.items) {
    add({
      id: p.id,
      block: BigInt(p.blockNumber),
      logIndex: p.logIndex,
      hash: p.transactionHash,
      kind: "received",
      text: (
        <>
          Received {formatAmount(BigInt(p.amount), unit)} from <ChamaRef id={p.chamaId} name={p.chama?.name} />
        </>
      ),
    });
  }
  for (const chama of data.administered.items) {
    add({
      id: `created-${chama.id}`,
      block: BigInt(chama.createdAtBlock),
      logIndex: -1,
      hash: chama.createdTxHash,
      kind: "created",
      text: (
        <>
          Created <ChamaRef id={chama.id} name={chama.name} /> (minimum {formatAmount(BigInt(chama.contributionAmount), unit)})
        </>
      ),
    });
    for (const p of chama.payouts.items) {
      if (sameAddress(p.recipient, address)) continue;
      add({
        id: p.id,
        block: BigInt(p.blockNumber),
        logIndex: p.logIndex,
        hash: p.transactionHash,
        kind: "paid",
        text: (
          <>
            Paid out {formatAmount(BigInt(p.amount), unit)} from <ChamaRef id={chama.id} name={chama.name} /> to{" "}
            <a href={accountHref(p.recipient)}>{short(p.recipient)}</a>
          </>
        ),
      });
    }
  }
  return [...byId.values()].sort(newestFirst).slice(0, ACTIVITY_LIMIT);
}

/** What an action not yet indexed asks for, in words. */
function summaryOf(action: Action, names: Map<string, string>, unit: Unit): string {
  const p = action.params;
  const chama = (id: bigint) => {
    const name = names.get(id.toString());
    return name === undefined ? `#${id}` : `#${id} ${name}`;
  };
  switch (p.kind) {
    case "createChama":
      return `Create ${p.name} (minimum ${formatAmount(p.contributionAmount, unit)})`;
    case "contribution":
      return `Contribute ${formatAmount(p.amount, unit)} to ${chama(p.chamaId)}`;
    case "payout":
      return `Pay out ${formatAmount(p.amount, unit)} from ${chama(p.chamaId)} to ${short(p.recipient)}`;
  }
}

export function AccountPage({ address }: { address: string }) {
  const { unit, wallet } = useApp();
  const result = useIndexedQuery<AccountData, { id: string }>({ query: ACCOUNT_QUERY, variables: { id: address.toLowerCase() } });
  // The index shows the reconciled ones (in words, below); these are the rest.
  const inFlight = useActions().filter((a) => sameAddress(a.account, address) && a.status !== "reconciled");
  const own = sameAddress(wallet?.address, address);

  if (result.error) return <p className="error">Could not load the account: {result.error.message}</p>;
  if (!result.data) return <p className="muted">Loading account…</p>;
  const data = result.data;
  const administered = [...data.administered.items].reverse();
  const memberships = data.members.items;
  const activity = activityOf(data, address, unit);
  const names = new Map<string, string>();
  for (const c of administered) names.set(c.id, c.name);
  for (const m of memberships) if (m.chama) names.set(m.chamaId, m.chama.name);
  const empty = administered.length === 0 && memberships.length === 0 && activity.length === 0 && inFlight.length === 0;

  return (
    <section className="account-page" data-testid="account-page">
      <h1>
        Account <code title={address}>{short(address)}</code> {own ? <span className="badge">you</span> : null}
      </h1>
      {empty ? (
        <p className="muted" data-testid="account-empty">
          Nothing indexed for <code className="address">{address.toLowerCase()}</code> yet: it administers no chama, is a member of none,
          and has not contributed or received anything.
        </p>
      ) : (
        <div className="stats" data-testid="account-stats">
          <div>
            <span className="label">Administers</span>
            {administered.length}
          </div>
          <div>
            <span className="label">Member of</span>
            {memberships.length}
          </div>
          <div>
            <span className="label">Contributed</span>
            {formatAmount(BigInt(data.account?.totalContributed ?? "0"), unit)}
          </div>
          <div>
            <span className="label">Received</span>
            {formatAmount(BigInt(data.account?.totalReceived ?? "0"), unit)}
          </div>
        </div>
      )}

      {inFlight.length > 0 ? (
        <>
          <h2>Not indexed yet</h2>
          <table className="rows">
            <tbody>
              <ActionRows actions={[...inFlight].reverse()} columns={4} testId="account-action-row" summary={(a) => summaryOf(a, names, unit)} />
            </tbody>
          </table>
        </>
      ) : null}

      {administered.length > 0 ? (
        <>
          <h2>Chamas {own ? "you administer" : "it administers"}</h2>
          <ul className="account-list" data-testid="administered">
            {administered.map((chama) => (
              <li key={chama.id} data-testid="administered-chama" data-chama-id={chama.id}>
                <ChamaRef id={chama.id} name={chama.name} />
                <span className="facts">
                  <span>balance {formatAmount(BigInt(chama.balance), unit)}</span>
                  <span>
                    {chama.memberCount} {chama.memberCount === 1 ? "member" : "members"}
                  </span>
                  <span>minimum {formatAmount(BigInt(chama.contributionAmount), unit)}</span>
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}

      {memberships.length > 0 ? (
        <>
          <h2>Memberships</h2>
          <ul className="account-list" data-testid="memberships">
            {memberships.map((m) => (
              <li key={m.chamaId} data-testid="membership" data-chama-id={m.chamaId}>
                <ChamaRef id={m.chamaId} name={m.chama?.name} />
                <span className="facts">
                  <span>
                    contributed {formatAmount(BigInt(m.totalContributed), unit)}
                    {m.contributionCount > 0 ? ` (${m.contributionCount}×)` : ""}
                  </span>
                  <span>received {formatAmount(BigInt(m.totalReceived), unit)}</span>
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}

      {activity.length > 0 ? (
        <>
          <h2>Activity</h2>
          <ol className="account-list" data-testid="activity">
            {activity.map((a) => (
              <li key={a.id} data-testid="activity-row" data-kind={a.kind} data-hash={a.hash}>
                <span className="what" data-testid="activity-text">
                  {a.text}
                </span>
                <span className="facts">
                  <span>block {a.block.toString()}</span>
                  <code className="hash" title={a.hash}>
                    {short(a.hash)}
                  </code>
                </span>
              </li>
            ))}
          </ol>
          {activity.length === ACTIVITY_LIMIT ? <p className="muted small">The newest {ACTIVITY_LIMIT} are shown.</p> : null}
        </>
      ) : null}
    </section>
  );
}
