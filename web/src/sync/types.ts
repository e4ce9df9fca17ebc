/**
 * The pending-action model shared by the store, the engine and the UI. Framework-free.
 */
import type { Address, Hash } from "viem";

export type ActionKind = "createChama" | "contribution" | "payout";

/** What the user asked for, with every amount as a bigint in wei. */
export type ActionParams =
  | { kind: "createChama"; name: string; contributionAmount: bigint }
  | { kind: "contribution"; chamaId: bigint; amount: bigint }
  | { kind: "payout"; chamaId: bigint; recipient: Address; amount: bigint };

/**
 * - `draft`: created, not sent yet (offline, or waiting for its turn). May hold a reserved nonce.
 * - `pending`: sent; hash and nonce known.
 * - `confirmed`: the receipt says it succeeded.
 * - `reconciled`: the indexed row matched it and replaced it on screen.
 * - `failed`: reverted, rejected or timed out; `error` says which.
 * - `replaced`: its nonce was used by a different transaction: a cancellation (`error.reason`
 *   `cancelled`) or another call (`replaced`).
 * - `dropped`: the transaction vanished (after a reorg, or evicted) and its nonce is still free.
 *
 * Whether a finished one may be retried is `retryPlan` in `rules.ts`.
 */
export type ActionStatus = "draft" | "pending" | "confirmed" | "reconciled" | "failed" | "replaced" | "dropped";

export type FailureReason = "reverted" | "rejected" | "timeout" | "dropped" | "replaced" | "cancelled";

/** The indexed values, when they differ from what the action said. Chain wins. */
export type Discrepancy = { field: string; expected: string; actual: string };

export type Action = {
  /** Local id, unique across tabs. */
  id: string;
  chainId: number;
  account: Address;
  params: ActionParams;
  /** The one intent of the user's this action carries out (a click, a confirmed review): a
   * second submit with the same id, from any tab, returns this action instead of a new one. */
  intentId?: string;
  status: ActionStatus;
  /** Milliseconds since the epoch (the engine's clock). */
  createdAt: number;
  updatedAt: number;
  /** When the current hash was sent; the timeout counts from here. */
  sentAt?: number;
  /** The nonce this action owns once reserved; every resend reuses it. */
  nonce?: number;
  /** Chain head when the nonce was reserved: where a lookup by nonce starts. */
  reservedAtBlock?: bigint;
  /** The hash being tracked. */
  hash?: Hash;
  /** Every hash ever sent (or adopted) for this action, oldest first. */
  hashes: Hash[];
  /** Block and log index of the action's event, from the receipt or the index. */
  blockNumber?: bigint;
  logIndex?: number;
  /** Values from the index (chain wins), e.g. the id of a created chama. */
  indexed?: { chamaId: bigint; amount?: bigint; account: Address; name?: string };
  discrepancies?: Discrepancy[];
  error?: { reason: FailureReason; message: string };
  /** Set when a reorg took the confirmed or reconciled action back to pending. */
  reorged?: boolean;
  /** Hash of the transaction that used this action's nonce instead (status `replaced`). */
  replacedBy?: Hash;
  /** When the user dismissed this finished failure (the engine's clock, ms): it leaves the rows
   * and the counts, in every tab. */
  dismissedAt?: number;
};

/** A row of the index as the row matching needs it (one per event log). */
export type IndexedRow = {
  kind: ActionKind;
  transactionHash: Hash;
  /** Undefined for rows without a log index (the chama table). */
  logIndex?: number;
  blockNumber: bigint;
  chamaId: bigint;
  /** Contributor, recipient or creator. */
  account: Address;
  amount?: bigint;
  name?: string;
};

export type Receipt = {
  status: "success" | "reverted";
  blockNumber: bigint;
  /** Log index of the action's event in the receipt (success only). */
  logIndex?: number;
  /** Decoded reason of a revert, when the chain gives one. */
  revertReason?: string;
};

/** viem's `onReplaced` reasons. `repriced` keeps the call (a speed-up); the others do not. */
export type Replacement = { reason: "replaced" | "cancelled" | "repriced"; hash: Hash; receipt: Receipt };

/** Statuses whose outcome is still open: the engine watches them. */
export const OPEN_STATUSES: ReadonlySet<ActionStatus> = new Set(["draft", "pending", "confirmed"]);
