/**
 * The one table of status changes, shared by the ledger's follower and the web client's sync
 * engine (web/src/sync/engine.ts): test/ledger-transitions.test.ts runs both against it. A
 * change outside it is a bug; the ledger's store refuses to write one.
 *
 * A row's `by` says who takes it: `both` the follower and the engine, `client` only the engine
 * (a retry needs the user's signature, which the server never holds; the server settles an
 * indexed row only after its receipt). A record may also stay in
 * its status with an event of its own (a rebroadcast, a new block after a reorg): those are
 * transitions rows with `from` equal to `to`, always allowed.
 */
import type { LedgerStatus } from "../common/ledger-api";

export type TransitionRule = { from: LedgerStatus; to: LedgerStatus; on: string; by: "both" | "client" };

export const TRANSITIONS: readonly TransitionRule[] = [
  { from: "draft", to: "pending", on: "sent, or found known to the node", by: "both" },
  { from: "draft", to: "failed", on: "the node refused it", by: "both" },
  { from: "draft", to: "replaced", on: "its nonce was used by another transaction", by: "both" },
  { from: "pending", to: "confirmed", on: "a successful receipt", by: "both" },
  { from: "pending", to: "failed", on: "a reverted receipt, or no receipt in time", by: "both" },
  { from: "pending", to: "replaced", on: "its nonce was used by another transaction", by: "both" },
  { from: "pending", to: "dropped", on: "gone from the node with nothing to rebroadcast", by: "both" },
  // The server reads receipts before it trusts an indexed row: during a reorg the index can
  // still hold the row of a transaction whose block is gone.
  { from: "pending", to: "reconciled", on: "its indexed row, before the receipt was seen", by: "client" },
  { from: "confirmed", to: "reconciled", on: "its indexed row", by: "both" },
  { from: "confirmed", to: "pending", on: "a reorg took its block", by: "both" },
  { from: "reconciled", to: "pending", on: "a reorg took its block", by: "both" },
  { from: "failed", to: "confirmed", on: "a receipt after it timed out", by: "both" },
  { from: "failed", to: "draft", on: "a retry", by: "client" },
  { from: "dropped", to: "draft", on: "a retry", by: "client" },
  { from: "replaced", to: "draft", on: "a retry after a cancellation", by: "client" },
];

/** True when the table allows `from` -> `to` (an event without a change of status always is). */
export function isAllowedTransition(params: { from: LedgerStatus; to: LedgerStatus; side?: "server" | "client" }): boolean {
  if (params.from === params.to) return true;
  return TRANSITIONS.some((t) => t.from === params.from && t.to === params.to && (params.side !== "server" || t.by === "both"));
}
