/**
 * What the sync engine needs from the world outside it: the chain, the indexer, the cross-tab
 * lock and the clock, and the errors those ports throw for the engine to branch on. The engine
 * holds no other reference to them, so tests inject scripted ports and a fake clock.
 */
import type { Address, Hash } from "viem";
import { JengaError } from "../../../common/errors";
import type { Action, IndexedRow, Receipt, Replacement } from "./types";

/** The RPC (or wallet transport) could not be reached: the action stays a draft. */
export class UnreachableError extends JengaError {
  override name = "UnreachableError";
}

/** The node refused a resend because the nonce is already used or known; the next pass finds
 * out by whom. */
export class NonceUsedError extends JengaError {
  override name = "NonceUsedError";
}

/** The person declined the transaction in their wallet: nothing was sent, and nothing will be
 * unless they submit it again (the engine fails the action without a retry). */
export class UserRejectedError extends JengaError {
  override name = "UserRejectedError";
}

/** The indexer answered, but refused the live stream (Ponder answers 503 until its backfill is
 * done): the stream is down, the indexer is not unreachable, and drafts need not wait. */
export class StreamRefusedError extends JengaError {
  override name = "StreamRefusedError";
}

/** What the engine needs from the chain. `viemChain.ts` implements it with viem. */
export type ChainPort = {
  chainId: number;
  /** The account this port signs for; drafts of other accounts wait for their own wallet. */
  account?: Address;
  getBlockNumber: () => Promise<bigint>;
  /** Transaction count of `account`: `latest` counts mined ones, `pending` adds the mempool. */
  getNonce: (params: { account: Address; blockTag: "latest" | "pending" }) => Promise<number>;
  /** Sends the action's call with exactly this nonce. `replace` asks for fees high enough to
   * replace an earlier transaction with the same nonce. */
  send: (params: { action: Action; nonce: number; replace: boolean }) => Promise<Hash>;
  /** Resolves with the receipt; calls `onReplaced` first if another hash took the nonce. */
  waitForReceipt: (params: {
    action: Action;
    hash: Hash;
    timeoutMs: number;
    onReplaced: (replacement: Replacement) => void;
  }) => Promise<Receipt>;
  /** The transaction if the node knows it (mined or in its mempool). */
  getTransaction: (hash: Hash) => Promise<{ blockNumber: bigint | null } | undefined>;
  /** The mined transaction from the action's account with the action's nonce, scanning from
   * `fromBlock`; `sameCall` says whether it carries the action's call, `cancel` whether it is a
   * cancellation (a 0-value transfer to the account itself, as viem's `onReplaced` tells them). */
  findByNonce: (params: {
    action: Action;
    fromBlock: bigint;
  }) => Promise<{ hash: Hash; sameCall: boolean; cancel?: boolean } | undefined>;
};

export type IndexedBlock = { number: bigint; timestamp: bigint };

/** What the engine needs from the indexer. `ponderIndexer.ts` implements it. */
export type IndexerPort = {
  /** Indexed rows of these transactions. */
  fetchRows: (params: { hashes: Hash[] }) => Promise<IndexedRow[]>;
  /** Pushes every newly indexed block; returns the unsubscribe function. `onOpen` is called each
   * time the stream is connected, `onError` each time it breaks or is refused (it reconnects
   * on its own, backing off, until unsubscribed). */
  subscribe: (params: {
    onBlock: (block: IndexedBlock) => void;
    onError: (error: Error) => void;
    onOpen?: () => void;
  }) => () => void;
  /** The newest indexed block, read now (undefined while nothing is indexed). */
  readIndexedBlock: () => Promise<IndexedBlock | undefined>;
};

/** Runs `fn` while holding the named lock (across tabs in the browser: Web Locks). `lock.ts`
 * has an in-process one, `browser.ts` the browser's. */
export type LockFn = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** Time for the engine: now, and timers. Tests drive a fake one. */
export type Clock = {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
};

/** The platform's clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};
