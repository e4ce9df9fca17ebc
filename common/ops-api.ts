/**
 * The JSON the operator endpoints answer, `GET /sync-health` and `POST /reconcile`: one
 * definition for the server (ops/), the scripts and the web app. It imports only types from
 * common/.
 */
import type { LedgerHealth } from "./ledger-api";

export type DiscrepancyKind = "missing_in_db" | "extra_in_db" | "value_mismatch";
/** `ledger`: a transaction ledger record against the chain and the index (key: its hash). */
export type DiscrepancyTable = "chama" | "member" | "contribution" | "payout" | "contract" | "ledger";
export type Values = Record<string, string | number | null>;
export type Discrepancy = {
  kind: DiscrepancyKind;
  table: DiscrepancyTable;
  /** Primary key: chama id, `chamaId:address`, `transactionHash:logIndex`, the contract address,
   * or (table `ledger`) the transaction hash. For `ledger`, `db` is the ledger's record and
   * `chain` what the chain's receipt and the index say. */
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
   * views; member views; the ledger's check. */
  phasesMs: { readIndex: number; logs: number; chamaViews: number; memberViews: number; ledger: number };
  /** Every difference, the ledger's included. */
  discrepancyCount: number;
  /** The first `maxDiscrepancies` discrepancies. */
  discrepancies: Discrepancy[];
  /** The transaction ledger's check: how many `confirmed` and `reconciled` records mined at or
   * below `block` were compared (and how many receipts that took), or why it did not run. */
  ledger: LedgerCheck;
};

export type LedgerCheck = { checked: number; receipts: number } | { skipped: string };

export type HealthStatus = "ok" | "lagging" | "stalled" | "diverged";
export const HEALTH_STATUSES: readonly HealthStatus[] = ["ok", "lagging", "stalled", "diverged"];

export type Reorg = { detectedAt: string; depth: number; commonAncestor: string | null; head: string; beyondWindow: boolean };

export type ReconciliationSummary =
  | { at: string; ok: boolean; block: string; durationMs: number; discrepancyCount: number; discrepancies: Discrepancy[]; rpc: ReconcileReport["rpc"]; ledger?: LedgerCheck }
  | { at: string; ok: false; error: string };

/** What an operator is alerted to (posted to ALERT_WEBHOOK_URL and listed on `/sync-health`):
 * - `status`: the overall status changed and held for ALERT_DEBOUNCE_MS (ok -> lagging, stalled,
 *   diverged, and back: `resolved` when back to ok);
 * - `discrepancy`: a reconciliation found differences, or a different number of them (and the
 *   first clean one after, `resolved`);
 * - `stuck`: ledger actions newly failed as timed out (past LEDGER_TIMEOUT_MS), one alert per
 *   batch, naming them. */
export type AlertKind = "status" | "discrepancy" | "stuck";
export const ALERT_KINDS: readonly AlertKind[] = ["status", "discrepancy", "stuck"];

/** The JSON body posted to ALERT_WEBHOOK_URL (with `Idempotency-Key: <id>`). */
export type AlertPayload = {
  /** Unique per alert: a retried delivery repeats it, a new change never does. */
  id: string;
  kind: AlertKind;
  at: string;
  /** One sentence for a person. */
  message: string;
  /** `[jenga] <message>`, for chat webhooks that show `text`. */
  text: string;
  /** True when this alert says things are back to normal. */
  resolved: boolean;
  /** The facts behind it: `status`: from, to, reasons; `discrepancy`: block, discrepancyCount,
   * byTable, first; `stuck`: count, hashes, transactions. */
  details: Record<string, unknown>;
};

export type AlertDeliveryState = "off" | "pending" | "delivered" | "failed" | "dropped";

/** An alert as `/sync-health` lists it: the payload and how its delivery went (`off` without
 * ALERT_WEBHOOK_URL, `dropped` when the queue was full). */
export type Alert = Omit<AlertPayload, "text"> & {
  delivery: { state: AlertDeliveryState; attempts: number; lastError: string | null };
};

/** This process's alerting: whether it posts (with replicas on one PostgreSQL only the one
 * running the ledger's follower does), the webhook, and delivery counts since it started. */
export type AlertingState = {
  posting: boolean;
  webhook: boolean;
  raised: number;
  raisedByKind: Record<AlertKind, number>;
  delivered: number;
  failed: number;
  dropped: number;
  queued: number;
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
  /** The newest alerts this process raised, newest first (at most 20); empty on a replica that
   * does not run the ledger's follower (see `alerting.posting`). */
  alerts?: Alert[];
  alerting?: AlertingState;
};
