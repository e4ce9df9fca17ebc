/**
 * Scripted stand-ins for the sync engine's ports: a fake clock, a chain whose answers the test
 * decides (receipts, replacements, nonces, outages), and an indexer whose rows and pushed
 * blocks the test sets. Every call is recorded so tests can assert what was (not) requested.
 */
import type { Address, Hash } from "viem";
import { LOCAL_CHAIN_ID } from "../../common/chain";
import { type ChainPort, type Clock, type IndexedBlock, type IndexerPort, StreamRefusedError, UnreachableError } from "../../web/src/sync/ports";
import type { Action, IndexedRow, Receipt, Replacement } from "../../web/src/sync/types";

/** A clock that only moves when the test says so. */
export class FakeClock implements Clock {
  time = 1_700_000_000_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.timers.delete(handle as number);
  };
  /** Pending timers (the engine must hold none when nothing is open). */
  get timerCount() {
    return this.timers.size;
  }
  /** Moves time forward and fires the timers that came due, in order. */
  advance(ms: number) {
    const target = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = target;
  }
}

type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void };
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export type SentTransaction = { actionId: string; nonce: number; hash: Hash; replace: boolean };

/** A chain whose every answer is scripted by the test. */
export class FakeChain implements ChainPort {
  chainId = LOCAL_CHAIN_ID;
  account: Address | undefined;
  head = 100n;
  unreachable = false;
  /** Mined transaction counts per account (`latest`). */
  latestNonce = new Map<string, number>();
  sent: SentTransaction[] = [];
  calls: string[] = [];
  /** Transactions the node knows: hash -> block (null = in the mempool). */
  known = new Map<Hash, bigint | null>();
  /** Mined transactions by `${account}:${nonce}`. */
  byNonce = new Map<string, { hash: Hash; sameCall: boolean; cancel?: boolean }>();
  /** When set, the next send throws this. */
  sendError: Error | undefined;
  private receipts = new Map<Hash, { deferred: Deferred<Receipt>; onReplaced: (r: Replacement) => void }>();
  private counter = 0;

  private call(name: string) {
    this.calls.push(name);
    if (this.unreachable) throw new UnreachableError("fetch failed: connection refused");
  }

  getBlockNumber = async () => {
    this.call("getBlockNumber");
    return this.head;
  };

  getNonce = async (params: { account: Address; blockTag: "latest" | "pending" }) => {
    this.call(`getNonce:${params.blockTag}`);
    const latest = this.latestNonce.get(params.account.toLowerCase()) ?? 0;
    if (params.blockTag === "latest") return latest;
    const inPool = [...this.known.values()].filter((b) => b === null).length;
    return Math.max(latest + inPool, ...this.sent.map((s) => s.nonce + 1));
  };

  send = async (params: { action: Action; nonce: number; replace: boolean }) => {
    this.call("send");
    if (this.sendError) {
      const error = this.sendError;
      this.sendError = undefined;
      throw error;
    }
    const hash = hashOf(++this.counter + 1000);
    this.sent.push({ actionId: params.action.id, nonce: params.nonce, hash, replace: params.replace });
    this.known.set(hash, null);
    return hash;
  };

  waitForReceipt = (params: { hash: Hash; onReplaced: (r: Replacement) => void }) => {
    this.calls.push("waitForReceipt");
    const existing = this.receipts.get(params.hash);
    if (existing) return existing.deferred.promise;
    const d = deferred<Receipt>();
    this.receipts.set(params.hash, { deferred: d, onReplaced: params.onReplaced });
    return d.promise;
  };

  getTransaction = async (hash: Hash) => {
    this.call("getTransaction");
    return this.known.has(hash) ? { blockNumber: this.known.get(hash) ?? null } : undefined;
  };

  findByNonce = async (params: { action: Action }) => {
    this.call("findByNonce");
    return this.byNonce.get(`${params.action.account.toLowerCase()}:${params.action.nonce}`);
  };

  /** True while someone waits for this hash's receipt. */
  isWatched(hash: Hash) {
    return this.receipts.has(hash);
  }

  /** Mines `hash` with the given outcome and answers its receipt watcher. */
  mine(params: { hash: Hash; account: Address; nonce: number; status?: "success" | "reverted"; logIndex?: number; revertReason?: string }) {
    this.head += 1n;
    this.known.set(params.hash, this.head);
    this.latestNonce.set(params.account.toLowerCase(), params.nonce + 1);
    this.byNonce.set(`${params.account.toLowerCase()}:${params.nonce}`, { hash: params.hash, sameCall: true });
    const receipt: Receipt = {
      status: params.status ?? "success",
      blockNumber: this.head,
      logIndex: params.logIndex ?? 0,
      revertReason: params.revertReason,
    };
    const watcher = this.receipts.get(params.hash);
    this.receipts.delete(params.hash);
    watcher?.deferred.resolve(receipt);
    return receipt;
  }

  /** Mines a different transaction with the same nonce and tells the watcher of `hash`. */
  replace(params: { hash: Hash; account: Address; nonce: number; reason: Replacement["reason"] }) {
    const newHash = hashOf(++this.counter + 5000);
    this.head += 1n;
    this.known.delete(params.hash);
    this.known.set(newHash, this.head);
    this.latestNonce.set(params.account.toLowerCase(), params.nonce + 1);
    this.byNonce.set(`${params.account.toLowerCase()}:${params.nonce}`, {
      hash: newHash,
      sameCall: params.reason === "repriced",
      cancel: params.reason === "cancelled",
    });
    const receipt: Receipt = { status: "success", blockNumber: this.head, logIndex: 0 };
    const watcher = this.receipts.get(params.hash);
    this.receipts.delete(params.hash);
    watcher?.onReplaced({ reason: params.reason, hash: newHash, receipt });
    watcher?.deferred.resolve(receipt);
    return { hash: newHash, blockNumber: this.head };
  }

  /** Rolls the chain back: these transactions leave their blocks (and, unless `keep`, the node). */
  reorg(params: { hashes: Hash[]; account: Address; nonceAfter: number; keep?: boolean }) {
    for (const hash of params.hashes) {
      if (params.keep) this.known.set(hash, null);
      else this.known.delete(hash);
    }
    this.latestNonce.set(params.account.toLowerCase(), params.nonceAfter);
    for (const key of [...this.byNonce.keys()]) {
      const [account, nonce] = key.split(":");
      if (account === params.account.toLowerCase() && Number(nonce) >= params.nonceAfter) this.byNonce.delete(key);
    }
  }
}

export function hashOf(n: number): Hash {
  return `0x${n.toString(16).padStart(64, "0")}`;
}

/** An indexer whose rows the test sets and whose live stream the test pushes. */
export class FakeIndexer implements IndexerPort {
  rows: IndexedRow[] = [];
  fetches: Hash[][] = [];
  subscribeCount = 0;
  unreachable = false;
  private listeners = new Set<{ onBlock: (block: IndexedBlock) => void; onError: (error: Error) => void; onOpen?: () => void }>();

  get subscribed() {
    return this.listeners.size > 0;
  }

  fetchRows = async (params: { hashes: Hash[] }) => {
    this.fetches.push(params.hashes);
    if (this.unreachable) throw new Error("indexer unreachable");
    const wanted = new Set(params.hashes.map((h) => h.toLowerCase()));
    return this.rows.filter((row) => wanted.has(row.transactionHash.toLowerCase()));
  };

  /** The block readIndexedBlock answers (pushes do not move it: a test decides what is lost). */
  latest: bigint | undefined;
  blockReads = 0;

  readIndexedBlock = async (): Promise<IndexedBlock | undefined> => {
    this.blockReads++;
    if (this.unreachable) throw new Error("indexer unreachable");
    return this.latest === undefined ? undefined : fakeIndexedBlock(this.latest);
  };

  subscribe = (params: { onBlock: (block: IndexedBlock) => void; onError: (error: Error) => void; onOpen?: () => void }) => {
    this.subscribeCount++;
    this.listeners.add(params);
    return () => {
      this.listeners.delete(params);
    };
  };

  /** Tells every subscriber the stream is connected. */
  open() {
    for (const listener of this.listeners) listener.onOpen?.();
  }

  /** Tells every subscriber the stream broke (the indexer went away). */
  fail(message = "server disconnected") {
    for (const listener of this.listeners) listener.onError(new Error(message));
  }

  /** Tells every subscriber the indexer answered but refused the stream (Ponder's 503 before
   * its backfill is done). */
  refuse() {
    for (const listener of this.listeners) {
      listener.onError(new StreamRefusedError("live stream refused: 503 Service Unavailable", { details: { status: 503 } }));
    }
  }

  /** Pushes a newly indexed block to every subscriber. */
  push(number: bigint) {
    for (const listener of this.listeners) listener.onBlock(fakeIndexedBlock(number));
  }
}

function fakeIndexedBlock(number: bigint): IndexedBlock {
  return { number, timestamp: 1_700_000_000n + number };
}

/** Lets queued promise callbacks and the engine's passes run. */
export async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}
