/**
 * The JSON the operator endpoints answer, `GET /sync-health` and `POST /reconcile`: one
 * definition for the server (ops/), the scripts and the web app. It imports only types from
 * common/.
 */
import type { LedgerHealth } from "./ledger-api";

export type DiscrepancyKind = "missing_in_db" | "extra_in_db" | "value_mismatch";
export type DiscrepancyTable = "chama" | "member" | "contribution" | "payout" | "contract";
export type Values = Record<string, string | number | null>;
export type Discrepancy = {
  kind: DiscrepancyKind;
  table: DiscrepancyTable;
  /** Primary key: chama id, `chamaId:address`, `transactionHash:logIndex`, or the contract address. */
  key: string;
  /** For `value_mismatch`: the fields that differ. */
  fields?: string[];
  db: Values | null;
  chain: Values | null;
};

export type ReconcileReport = {
  ok: boolean;
  /** The block compared at (the indexer's checkpoint), and its timestamp. */
  block: string;
  blockTimestamp: string;
  startedAt: string;
  durationMs: number;
  rows: { chamas: number; members: number; contributions: number; payouts: number };
  logs: number;
  /** JSON-RPC calls made and the HTTP requests that carried them (batched). */
  rpc: { calls: number; httpRequests: number };
  /** Where the time went: reading the tables; eth_getLogs and comparing event rows; chama
   * views; member views. */
  phasesMs: { readIndex: number; logs: number; chamaViews: number; memberViews: number };
  discrepancyCount: number;
  /** The first `maxDiscrepancies` discrepancies. */
  discrepancies: Discrepancy[];
};

export type HealthStatus = "ok" | "lagging" | "stalled" | "diverged";
export const HEALTH_STATUSES: readonly HealthStatus[] = ["ok", "lagging", "stalled", "diverged"];

export type Reorg = { detectedAt: string; depth: number; commonAncestor: string | null; head: string; beyondWindow: boolean };

export type ReconciliationSummary =
  | { at: string; ok: boolean; block: string; durationMs: number; discrepancyCount: number; discrepancies: Discrepancy[]; rpc: ReconcileReport["rpc"] }
  | { at: string; ok: false; error: string };

/** What an operator is alerted to (posted to ALERT_WEBHOOK_URL and listed on `/sync-health`):
 * - `status`: the overall status changed (ok -> lagging, stalled, diverged, and back);
 * - `discrepancy`: a reconciliation found differences (or, `ok: true`, found none again);
 * - `stuck`: ledger actions pending past LEDGER_TIMEOUT_MS (or none any more). */
export type AlertKind = "status" | "discrepancy" | "stuck";
export type Alert = {
  /** Unique per alert; the webhook may see it twice after a retry, never two alerts for one change. */
  id: string;
  kind: AlertKind;
  at: string;
  /** One sentence for a person. */
  message: string;
  /** True when this alert says things are back to normal. */
  resolved: boolean;
  /** The facts behind it (statuses, counts, hashes). */
  details: Record<string, unknown>;
  /** Webhook delivery: `off` without ALERT_WEBHOOK_URL. */
  delivery: { state: "off" | "pending" | "delivered" | "failed"; attempts: number; lastError: string | null };
};

export type SyncHealth = {
  status: HealthStatus;
  /** Why the status is not `ok`, one sentence each. */
  reasons: string[];
  checkedAt: string;
  chain: { reachable: true; head: string; headTimestamp: string; rpcMs: number } | { reachable: false; error: string; rpcMs: number };
  indexed: { block: string; timestamp: string; lastAdvancedAt: string } | null;
  lag: { blocks: number; seconds: number } | null;
  sync: { mode: "realtime" | "backfilling"; ready: boolean; startBlock: string; progress: number } | null;
  reorgs: { seen: number; deepest: number; last: Reorg | null; unrecoverable: boolean; watchingSince: string; windowBlocks: number };
  lastReconciliation: ReconciliationSummary | null;
  thresholds: { maxLagBlocks: number; maxLagSeconds: number; stallSeconds: number; finalityBlocks: number; rpcTimeoutMs: number };
  /** Lag samples over the last hour, oldest first (for a chart). */
  lagHistory: { at: string; blocks: number; seconds: number }[];
  /** The transaction ledger's counts (every user's actions, not one browser's); absent when the
   * ledger is off (LEDGER_ENABLED=false), `{ error }` when its database could not be read. */
  ledger?: LedgerHealth | { error: string };
  /** The newest alerts, newest first (at most 20), from the process that runs the follower. */
  alerts?: Alert[];
};
