/**
 * Reconciling the client's pending actions with indexed rows: a pending contribution is
 * confirmed once a row with its transaction hash is indexed. This mirrors the web client's
 * algorithm (web/src/sync, not in this branch): index the rows by hash once, then one lookup
 * per pending action, O(pending + indexed).
 */
import type { Hex } from "viem";

export type PendingAction = { id: string; transactionHash: Hex };
/** A row as the API returns it: hashes in lowercase. */
export type IndexedRow = { id: string; transactionHash: Hex };

export type ReconcileReturnType<P> = {
  /** Pending actions whose transaction is indexed, with the row that confirms each. */
  confirmed: { action: P; row: IndexedRow }[];
  /** Pending actions not indexed yet, in their original order. */
  pending: P[];
};

/** Matches pending actions to indexed rows by transaction hash (an action's hash may be in any
 * case; rows come lowercase from the API). */
export function reconcile<P extends PendingAction>(params: { pending: readonly P[]; indexed: readonly IndexedRow[] }): ReconcileReturnType<P> {
  const byHash = new Map<string, IndexedRow>();
  for (const row of params.indexed) {
    if (!byHash.has(row.transactionHash)) byHash.set(row.transactionHash, row);
  }
  const confirmed: { action: P; row: IndexedRow }[] = [];
  const pending: P[] = [];
  for (const action of params.pending) {
    const row = byHash.get(action.transactionHash.toLowerCase());
    if (row) confirmed.push({ action, row });
    else pending.push(action);
  }
  return { confirmed, pending };
}

/** The naive version, for reference: a linear search of the rows per pending action,
 * O(pending x indexed). Same result as `reconcile`. */
export function reconcileNaive<P extends PendingAction>(params: { pending: readonly P[]; indexed: readonly IndexedRow[] }): ReconcileReturnType<P> {
  const confirmed: { action: P; row: IndexedRow }[] = [];
  const pending: P[] = [];
  for (const action of params.pending) {
    const hash = action.transactionHash.toLowerCase();
    const row = params.indexed.find((r) => r.transactionHash === hash);
    if (row) confirmed.push({ action, row });
    else pending.push(action);
  }
  return { confirmed, pending };
}
