/**
 * The JSON of the transaction ledger's endpoints (`POST /transactions`, `GET /transactions`,
 * `GET /transactions/:hash`) and its counts on `/sync-health`: one definition for the server,
 * the tests and the web app. Types and constants only; it imports nothing.
 */

/** The states of a ledger record, the same as the web client's sync core:
 * - `draft`: recorded with its raw transaction, not broadcast yet (or not known to have been);
 * - `pending`: broadcast (or registered by hash) and not mined;
 * - `confirmed`: mined, the receipt succeeded;
 * - `reconciled`: the index holds its event row;
 * - `failed`: reverted on chain, refused by the node, or timed out (`error.reason` says which);
 * - `replaced`: another transaction used its nonce;
 * - `dropped`: the node no longer knows it, it holds no raw transaction to rebroadcast, and its
 *   time ran out. */
export type LedgerStatus = "draft" | "pending" | "confirmed" | "reconciled" | "failed" | "replaced" | "dropped";
export const LEDGER_STATUSES: readonly LedgerStatus[] = ["draft", "pending", "confirmed", "reconciled", "failed", "replaced", "dropped"];

/** Statuses the follower still moves. */
export const LEDGER_OPEN_STATUSES: readonly LedgerStatus[] = ["draft", "pending", "confirmed"];

export type LedgerKind = "createChama" | "contribution" | "payout";

/** Where a record came from: relayed by the server (it holds the raw transaction), registered by
 * hash after a wallet sent it, or created from an indexed event nobody announced. */
export type LedgerOrigin = "relay" | "wallet" | "chain";

export type LedgerFailureReason = "reverted" | "rejected" | "timeout" | "dropped" | "replaced";

/** One record; amounts and numbers that may pass 2^53 as decimal strings. */
export type LedgerTransaction = {
  hash: string;
  chainId: number;
  from: string;
  nonce: number;
  to: string;
  kind: LedgerKind;
  /** Null for a createChama until the index gives the new chama's id. */
  chamaId: string | null;
  /** Wei: the contribution's value, the payout's amount, or the new chama's minimum. */
  amount: string;
  recipient: string | null;
  name: string | null;
  status: LedgerStatus;
  origin: LedgerOrigin;
  blockNumber: string | null;
  blockHash: string | null;
  error: { reason: LedgerFailureReason; message: string } | null;
  /** Hash of the transaction that took this one's nonce, when known. */
  replacedBy: string | null;
  /** How many times the server sent the raw transaction again. */
  rebroadcasts: number;
  /** True when the server holds the raw transaction (it can rebroadcast it). */
  relayed: boolean;
  createdAt: string;
  updatedAt: string;
  /** First broadcast (or registration); the timeout counts from here. */
  sentAt: string | null;
};

/** One row of the audit trail: every change of a record, append-only. `from` is null for the
 * record's creation; `from` equal to `to` marks an event without a change of status (a
 * rebroadcast). */
export type LedgerTransition = { from: LedgerStatus | null; to: LedgerStatus; cause: string; at: string };

export type LedgerTransactionWithTransitions = LedgerTransaction & { transitions: LedgerTransition[] };

/** `GET /transactions`: newest first; pass `next` as `after` for the following page. */
export type LedgerPage = { items: LedgerTransaction[]; next: string | null };

/** One change on `GET /transactions/stream` (server-sent events). Each change is an SSE message
 * `event: transaction`, `id: <transition id>`, `data: <LedgerChange as JSON>`. A client that
 * reconnects with `Last-Event-ID` (or `?after=<id>`) first gets every change after that id (up to
 * LEDGER_STREAM_REPLAY of them); then `event: ready` (data `{}`) marks the live part. Filters:
 * `?chamaId=` and `?from=`, as on `GET /transactions`. */
export type LedgerChange = {
  /** The transition's id: increasing, the SSE `id`. */
  id: string;
  transaction: LedgerTransaction;
  transition: LedgerTransition;
};

/** Most changes replayed to a stream that resumes with Last-Event-ID. */
export const LEDGER_STREAM_REPLAY = 1_000;

/** The ledger's counts on `/sync-health` (`ledger`). */
export type LedgerHealth = {
  drafts: number;
  pending: number;
  /** Records that became failed in the last 24 hours. */
  failedLast24h: number;
  /** Age of the oldest draft or pending record, in seconds; null when there is none. */
  oldestPendingSeconds: number | null;
  /** Rebroadcasts of raw transactions, all time. */
  rebroadcasts: number;
  /** When the follower last finished a pass; null before the first. */
  lastPassAt: string | null;
  /** The last pass's error, if it failed. */
  lastError: string | null;
  /** Whether this process runs the follower: with replicas on one PostgreSQL exactly one does
   * (`leader`), the others stand by (`standby`) and take over within seconds when it stops. */
  follower: "leader" | "standby";
};
