/**
 * Every member's actions in flight on a chama, from the API's ledger (pushed by its change
 * stream): "0x7099…79c8 · 1,000 sats · pending 12 s". This browser's own actions are left out
 * (their rows above say more), and so is anything the index already lists. A record leaves
 * once reconciled; a failure stays an hour with its reason. While the ledger cannot be read,
 * the list says so and what it shows is dated, never passed off as current.
 */
import { useApp } from "../appContext";
import { decodeChamaError } from "../chamaErrors";
import { accountHref, ago, duration, short } from "../format";
import type { LedgerEntry } from "../ledger";
import type { LedgerFeedState } from "../ledgerFeed";
import { type Unit, formatAmount } from "../units";
import { useNow } from "./SyncHealthPanel";
import "../ledger.css";

/** What the record is doing, with how long it has been at it. */
function statusWords(entry: LedgerEntry, now: number, unit: Unit): string {
  const since = duration(now - (entry.sentAt ?? entry.createdAt));
  switch (entry.status) {
    case "draft":
      return `not sent yet ${since}`;
    case "pending":
      return entry.rebroadcasts > 0 ? `pending ${since} (sent again ${entry.rebroadcasts}×)` : `pending ${since}`;
    case "confirmed":
      return "in a block, waiting for the index";
    case "reconciled":
      return "indexed";
    default: {
      const message = entry.error ? (decodeChamaError({ error: entry.error.message, unit }) ?? entry.error.message) : "";
      return `${entry.status}${message ? `: ${message}` : ""}`;
    }
  }
}

/** What the record asks for: the amount, a payout with its recipient, or a new chama. */
function whatWords(entry: LedgerEntry, unit: Unit): string {
  if (entry.kind === "payout" && entry.recipient) return `payout of ${formatAmount(entry.amount, unit)} to ${short(entry.recipient.toLowerCase())}`;
  if (entry.kind === "createChama") return `create ${entry.name ?? "a chama"}`;
  return formatAmount(entry.amount, unit);
}

/** "0x7099…79c8 · 1,000 sats · pending 12 s" (addresses as the index lists them, lower case). */
export function ledgerLine(entry: LedgerEntry, now: number, unit: Unit): string {
  return `${short(entry.from.toLowerCase())} · ${whatWords(entry, unit)} · ${statusWords(entry, now, unit)}`;
}

/** The same line, its sender linked to their account page. */
export function LedgerLine({ entry, now, unit }: { entry: LedgerEntry; now: number; unit: Unit }) {
  return (
    <span data-testid="ledger-line">
      <a href={accountHref(entry.from)}>{short(entry.from.toLowerCase())}</a> · {whatWords(entry, unit)} · {statusWords(entry, now, unit)}
    </span>
  );
}

export function LedgerRows(props: {
  feed: LedgerFeedState;
  /** Hashes shown elsewhere on the page (this browser's actions, indexed rows). */
  shown: Set<string>;
  /** `account:nonce` of this browser's own actions (lower-case account). */
  ownNonces: Set<string>;
}) {
  const { unit } = useApp();
  const now = useNow();
  const { feed } = props;
  const entries = feed.entries.filter((e) => !props.shown.has(e.hash) && !props.ownNonces.has(`${e.from.toLowerCase()}:${e.nonce}`));
  const note =
    feed.state === "no-ledger"
      ? `Other members' pending actions are not known: ${feed.error ?? "this API keeps no ledger"}.`
      : feed.state === "unreachable"
        ? `Other members' pending actions: unknown now (${feed.error ?? "the ledger is unreachable"})${feed.since ? `; below, as of ${ago(now - feed.since)}` : ""}.`
        : feed.since === undefined
          ? "Loading other members' pending actions…"
          : entries.length === 0
            ? "No other member's action is in flight on this chama."
            : undefined;
  return (
    <section className="ledger-rows" data-testid="ledger-rows" data-state={feed.state}>
      <h2>
        In flight <span className="muted small">every member's actions, from the ledger</span>
      </h2>
      {note ? (
        <p className={`small ${feed.state === "live" || feed.state === "connecting" ? "muted" : "warn"}`} data-testid="ledger-note">
          {note}
        </p>
      ) : null}
      {entries.length > 0 ? (
        <ul className="ledger-list">
          {entries.map((entry) => (
            <li key={entry.hash} data-testid="ledger-row" data-hash={entry.hash} data-status={entry.status} className={`ledger-row status-${entry.status}`}>
              <LedgerLine entry={entry} now={now} unit={unit} />{" "}
              <code className="hash muted" title={entry.hash}>
                {short(entry.hash)}
              </code>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
