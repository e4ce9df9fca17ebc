/**
 * The transaction ledger against the chain and the index at block B, free of I/O:
 *
 * - every `confirmed` or `reconciled` record mined at or below B has its receipt at the block
 *   hash the ledger holds, and that receipt succeeded;
 * - every `reconciled` record mined at or below B has its event row in the index at B (a
 *   contribution or payout row by transaction hash, a chama row by its creating transaction).
 *
 * A transaction whose log the reconciler already read at the ledger's block hash has that
 * receipt (a reverted transaction has no logs), so receipts are fetched only for the others
 * (`receiptsToFetch`). Each difference is one Discrepancy of table `ledger`, keyed by the hash:
 * `extra_in_db` when the chain has no receipt at all, `value_mismatch` naming `blockNumber`,
 * `blockHash`, `receipt` and `indexed` otherwise. `db` is the ledger's side, `chain` the
 * chain's receipt and the index's answer.
 */
import type { Discrepancy, Values } from "../common/ops-api";

/** A ledger record the check reads (status confirmed or reconciled, mined). */
export type LedgerMined = { hash: string; kind: string; status: "confirmed" | "reconciled"; blockNumber: bigint; blockHash: string };

/** A receipt as the check needs it; null: the chain has none. */
export type MinedReceipt = { status: "success" | "reverted"; blockNumber: bigint; blockHash: string } | null;

/** Where each transaction with a contract log up to B was mined (lowercase hashes). */
export type MinedByLogs = Map<string, { blockNumber: bigint; blockHash: string }>;

const lower = (s: string) => s.toLowerCase();

/** The records the check covers: mined at or below B. */
function checked(records: LedgerMined[], block: bigint): LedgerMined[] {
  return records.filter((r) => r.blockNumber <= block);
}

/** Hashes whose receipt must be fetched: covered records without a log at their block hash. */
export function receiptsToFetch(params: { block: bigint; records: LedgerMined[]; mined: MinedByLogs }): string[] {
  return checked(params.records, params.block)
    .filter((r) => params.mined.get(lower(r.hash))?.blockHash !== lower(r.blockHash))
    .map((r) => lower(r.hash));
}

/** Compares every covered record and reports each difference. Returns how many it covered. */
export function compareLedger(params: {
  block: bigint;
  records: LedgerMined[];
  mined: MinedByLogs;
  /** Receipts of `receiptsToFetch`'s hashes. */
  receipts: Map<string, MinedReceipt>;
  /** Transaction hashes of the index's event rows at B (lowercase). */
  indexed: Set<string>;
  report: (discrepancy: Discrepancy) => void;
}): number {
  const records = checked(params.records, params.block);
  for (const record of records) {
    const key = lower(record.hash);
    const fromLogs = params.mined.get(key);
    const receipt: MinedReceipt =
      fromLogs?.blockHash === lower(record.blockHash) ? { status: "success", ...fromLogs } : (params.receipts.get(key) ?? null);
    const reconciled = record.status === "reconciled";
    const db: Values = {
      status: record.status,
      kind: record.kind,
      blockNumber: record.blockNumber.toString(),
      blockHash: lower(record.blockHash),
      receipt: "success",
      ...(reconciled ? { indexed: "yes" } : {}),
    };
    const isIndexed = params.indexed.has(key) ? "yes" : "no";
    if (!receipt) {
      params.report({ kind: "extra_in_db", table: "ledger", key, db, chain: reconciled ? { receipt: null, indexed: isIndexed } : null });
      continue;
    }
    const chain: Values = {
      blockNumber: receipt.blockNumber.toString(),
      blockHash: lower(receipt.blockHash),
      receipt: receipt.status,
      ...(reconciled ? { indexed: isIndexed } : {}),
    };
    const fields = Object.keys(chain).filter((f) => db[f] !== chain[f]);
    if (fields.length > 0) params.report({ kind: "value_mismatch", table: "ledger", key, fields, db, chain });
  }
  return records.length;
}
