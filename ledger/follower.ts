/**
 * The follower: moves every open ledger record through the states of the shared table
 * (./transitions.ts), the chain always winning. Each pass reads the head, the records still
 * watched, their receipts and the index, and for each record asks `decide` (pure: a record and
 * what was observed in, one step out) until nothing is left to do. Every change goes through
 * LedgerStore.transition, which writes its transitions row.
 */
import type { Address, Hash } from "viem";
import { errorMessage } from "../common/errors";
import type { LedgerKind, LedgerStatus } from "../common/ledger-api";
import { type ChainTransaction, type LedgerChain, type LedgerReceipt, NodeRefusedError } from "./chain";
import { type LedgerPatch, type LedgerRecord, type LedgerStore, LedgerTransitionError } from "./store";
import { isAllowedTransition } from "./transitions";

/** What a pass saw of one record. */
export type Observation = {
  /** Milliseconds since the epoch. */
  now: number;
  receipt: LedgerReceipt | null;
  /** The node knows the transaction (mined or in its pool). */
  known: boolean;
  /** Transactions of the sender mined so far. */
  minedNonce: number;
  /** The index holds the transaction's event row (with the chama's id). */
  indexed: { chamaId: bigint } | undefined;
  /** The decoded custom error, for a reverted receipt. */
  revertReason?: string;
  /** Another record of ours with the same sender and nonce that the node knows: the
   * replacement, when this record's nonce was used. */
  replacement?: Hash;
};

export type Step =
  | { kind: "none" }
  | { kind: "broadcast"; cause: string }
  | { kind: "move"; to: LedgerStatus; cause: string; patch?: LedgerPatch; rebroadcast?: boolean };

/** The next step for one record. Pure; the follower applies it and asks again. */
export function decide(record: LedgerRecord, seen: Observation, settings: { timeoutMs: number }): Step {
  const { receipt } = seen;
  const sentAt = (record.sentAt ?? record.createdAt).getTime();
  const late = seen.now - sentAt >= settings.timeoutMs;
  const seconds = Math.round(settings.timeoutMs / 1000);
  const minedPatch = (r: LedgerReceipt): LedgerPatch => ({ blockNumber: r.blockNumber, blockHash: r.blockHash });
  const nonceUsed = !receipt && !seen.known && seen.minedNonce > record.nonce;
  const replaced: Step = {
    kind: "move",
    to: "replaced",
    cause: seen.replacement
      ? `nonce ${record.nonce} of ${record.from} was used by ${seen.replacement}`
      : `nonce ${record.nonce} of ${record.from} was used by another transaction`,
    patch: {
      error: { reason: "replaced", message: seen.replacement ? `replaced by ${seen.replacement}` : `nonce ${record.nonce} was used by another transaction` },
      ...(seen.replacement ? { replacedBy: seen.replacement } : {}),
    },
  };

  switch (record.status) {
    case "draft":
      if (receipt || seen.known) return { kind: "move", to: "pending", cause: "the node already knows it", patch: { sentAt: record.sentAt ?? new Date(seen.now) } };
      if (nonceUsed) return replaced;
      if (record.raw) return { kind: "broadcast", cause: "recorded but not broadcast (recovered)" };
      return { kind: "none" };
    case "pending":
      if (receipt?.status === "success") return { kind: "move", to: "confirmed", cause: `mined in block ${receipt.blockNumber}`, patch: { ...minedPatch(receipt), error: null } };
      if (receipt?.status === "reverted") {
        const message = seen.revertReason ? `reverted: ${seen.revertReason}` : `reverted in block ${receipt.blockNumber}`;
        return { kind: "move", to: "failed", cause: message, patch: { ...minedPatch(receipt), error: { reason: "reverted", message } } };
      }
      if (nonceUsed) return replaced;
      if (late) {
        if (seen.known || record.raw) {
          const message = `timed out: no receipt within ${seconds} s`;
          return { kind: "move", to: "failed", cause: message, patch: { error: { reason: "timeout", message } } };
        }
        const message = `dropped: the node no longer knows it and nothing was mined within ${seconds} s`;
        return { kind: "move", to: "dropped", cause: message, patch: { error: { reason: "dropped", message } } };
      }
      if (!seen.known && record.raw) return { kind: "move", to: "pending", cause: "rebroadcast: the node did not know it", rebroadcast: true };
      return { kind: "none" };
    case "confirmed":
    case "reconciled":
      if (!receipt) {
        return { kind: "move", to: "pending", cause: `a reorg took block ${record.blockNumber}`, patch: { blockNumber: null, blockHash: null, sentAt: new Date(seen.now) } };
      }
      if (receipt.blockHash !== record.blockHash) {
        if (receipt.status === "reverted") {
          const message = seen.revertReason ? `reverted: ${seen.revertReason}` : `reverted in block ${receipt.blockNumber}`;
          return { kind: "move", to: "failed", cause: `after a reorg, ${message}`, patch: { ...minedPatch(receipt), error: { reason: "reverted", message } } };
        }
        return { kind: "move", to: record.status, cause: `mined again in block ${receipt.blockNumber} after a reorg`, patch: minedPatch(receipt) };
      }
      if (record.status === "confirmed" && seen.indexed) return { kind: "move", to: "reconciled", cause: "indexed", patch: { chamaId: seen.indexed.chamaId } };
      return { kind: "none" };
    case "failed":
      if (record.error?.reason === "timeout" && receipt?.status === "success") {
        return { kind: "move", to: "confirmed", cause: `mined in block ${receipt.blockNumber} after timing out`, patch: { ...minedPatch(receipt), error: null } };
      }
      return { kind: "none" };
    default:
      return { kind: "none" };
  }
}

export type IndexedLookup = (hashes: Hash[]) => Promise<Map<string, { chamaId: bigint }>>;

/** One indexed event, as the follower needs it to record a transaction nobody announced. */
export type IndexedEvent = { hash: Hash; blockNumber: bigint; kind: LedgerKind; chamaId: bigint; amount: bigint; recipient: Address | null; name: string | null };

/** The index's events in blocks after `afterBlock` and at most `throughBlock`, in block order,
 * about `limit` at most; `complete` is the last block whose events are all in the answer
 * (undefined when there were none). */
export type IndexedEvents = (params: { afterBlock: bigint; throughBlock?: bigint; limit: number }) => Promise<{ events: IndexedEvent[]; complete: bigint | undefined }>;

/** The cursor of the scan for transactions nobody announced. */
const ADOPT_CURSOR = "unannounced";

export type FollowerParameters = {
  store: LedgerStore;
  chain: LedgerChain;
  /** The index's rows for these transaction hashes (lowercase keys). */
  indexed: IndexedLookup;
  /** The index's events by block, to record transactions nobody announced (origin "chain").
   * Without it, those are not recorded. */
  events?: IndexedEvents;
  /** Most unannounced transactions recorded in one pass. */
  adoptBatch?: number;
  timeoutMs: number;
  pollIntervalMs: number;
  /** Reorgs deeper than this are not watched for. */
  finalityBlocks: number;
  now?: () => number;
  log?: (line: string) => void;
};

/** Runs passes every `pollIntervalMs`, one at a time. The first pass, at start, broadcasts every
 * record left as a draft with its raw transaction (a crash between record and broadcast). */
export class Follower {
  private readonly p: FollowerParameters;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Hashes intake is handling right now: a pass leaves them alone. */
  readonly busy = new Set<string>();
  /** Settled records the next pass looks at again whatever their height (`recheck`). */
  private readonly rechecks = new Set<string>();
  lastPassAt: Date | null = null;
  lastError: string | null = null;

  constructor(params: FollowerParameters) {
    this.p = params;
    this.now = params.now ?? Date.now;
  }

  start(): this {
    this.stopped = false;
    this.schedule(0);
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .then(
          () => {
            this.lastError = null;
          },
          (error: unknown) => {
            this.lastError = errorMessage(error);
            (this.p.log ?? console.warn)(`Transaction ledger: a follower pass failed, retrying in ${this.p.pollIntervalMs} ms: ${this.lastError}`);
          },
        )
        .finally(() => {
          this.lastPassAt = new Date(this.now());
          this.running = undefined;
          this.schedule(this.p.pollIntervalMs);
        });
    }, ms);
  }

  /** Has the next pass look again at these confirmed or reconciled records, below the watch
   * window too: the reconciler found the chain disagreeing with them (a reorg deeper than
   * `finalityBlocks` took their block, say), and the chain wins. */
  recheck(hashes: string[]): void {
    for (const hash of hashes) this.rechecks.add(hash.toLowerCase());
  }

  /** One pass over every watched record, and the records asked for by `recheck`. */
  async pass(): Promise<void> {
    const { store, chain } = this.p;
    const head = await chain.getBlockNumber();
    const sinceBlock = head > BigInt(this.p.finalityBlocks) ? head - BigInt(this.p.finalityBlocks) : 0n;
    if (this.p.events) await this.adopt({ head });
    const asked = [...this.rechecks];
    const watched = await store.watched({ sinceBlock });
    const seen = new Set(watched.map((r) => r.hash));
    const again = (await store.settledByHash(asked)).filter((r) => !seen.has(r.hash));
    for (const hash of asked) this.rechecks.delete(hash);
    const records = [...watched, ...again].filter((r) => !this.busy.has(r.hash));
    if (records.length === 0) return;
    const indexed = await this.p.indexed(records.map((r) => r.hash));
    const nonces = new Map<string, number>();
    const minedNonce = async (address: Address) => {
      const key = address.toLowerCase();
      let n = nonces.get(key);
      if (n === undefined) {
        n = await chain.getMinedNonce(address);
        nonces.set(key, n);
      }
      return n;
    };
    for (const record of records) await this.follow({ record, indexed, minedNonce });
  }

  /** Records the indexed transactions the ledger never saw (origin "chain", reconciled): the
   * blocks past the cursor, and again the last `finalityBlocks` before it (a reorg there can
   * bring new events at old heights). */
  private async adopt(params: { head: bigint }): Promise<void> {
    const { store, chain } = this.p;
    const events = this.p.events!;
    const limit = this.p.adoptBatch ?? 200;
    const cursor = (await store.cursor(ADOPT_CURSOR)) ?? -1n;
    const windowStart = cursor - BigInt(this.p.finalityBlocks);
    const recheck = cursor >= 0n ? await events({ afterBlock: windowStart < -1n ? -1n : windowStart, throughBlock: cursor, limit }) : { events: [], complete: undefined };
    const forward = await events({ afterBlock: cursor, limit });
    const byHash = new Map<string, IndexedEvent>();
    for (const event of [...recheck.events, ...forward.events]) if (!byHash.has(event.hash.toLowerCase())) byHash.set(event.hash.toLowerCase(), event);
    const known = await store.known([...byHash.values()].map((e) => e.hash));
    let adopted = 0;
    for (const [hash, event] of byHash) {
      if (known.has(hash) || this.busy.has(hash)) continue;
      if (adopted >= limit) return; // the cursor stays: the next pass goes on from here
      const [tx, receipt] = await Promise.all([chain.getTransaction(event.hash), chain.getReceipt(event.hash)]);
      // Gone in a reorg since it was indexed: the index drops it too, or a later pass sees it again.
      if (!tx || !receipt || receipt.blockNumber > params.head) continue;
      await store.insert({
        record: {
          hash: event.hash,
          chainId: chain.chainId,
          from: tx.from,
          nonce: tx.nonce,
          to: tx.to ?? tx.from,
          kind: event.kind,
          chamaId: event.chamaId,
          amount: event.amount,
          recipient: event.recipient,
          name: event.name,
          raw: null,
          status: "reconciled",
          origin: "chain",
          sentAt: null,
          blockNumber: receipt.blockNumber,
          blockHash: receipt.blockHash,
        },
        cause: `indexed in block ${receipt.blockNumber}; no one announced it`,
      });
      adopted++;
    }
    if (forward.complete !== undefined && forward.complete > cursor) await store.setCursor({ name: ADOPT_CURSOR, block: forward.complete });
  }

  private async observe(params: { record: LedgerRecord; indexed: Map<string, { chamaId: bigint }>; minedNonce: (a: Address) => Promise<number> }): Promise<Observation> {
    const { record, indexed } = params;
    const { chain } = this.p;
    const receipt = await chain.getReceipt(record.hash);
    let tx: ChainTransaction | null = null;
    let revertReason: string | undefined;
    if (receipt?.status === "reverted") {
      tx = await chain.getTransaction(record.hash);
      if (tx) revertReason = await chain.revertReason(tx);
    }
    const known = receipt !== null || (await chain.getTransaction(record.hash)) !== null;
    const minedNonce = known ? record.nonce : await params.minedNonce(record.from);
    let replacement: Hash | undefined;
    if (!known && minedNonce > record.nonce) {
      for (const other of await this.p.store.sameNonce({ from: record.from, nonce: record.nonce, except: record.hash })) {
        if (await chain.getReceipt(other.hash)) {
          replacement = other.hash;
          break;
        }
      }
    }
    return { now: this.now(), receipt, known, minedNonce, indexed: indexed.get(record.hash.toLowerCase()), revertReason, replacement };
  }

  private async follow(params: { record: LedgerRecord; indexed: Map<string, { chamaId: bigint }>; minedNonce: (a: Address) => Promise<number> }): Promise<void> {
    let record: LedgerRecord | undefined = params.record;
    // A record moves at most a few steps in one pass (pending -> confirmed -> reconciled).
    for (let i = 0; i < 4 && record; i++) {
      const seen = await this.observe({ ...params, record });
      const step = decide(record, seen, { timeoutMs: this.p.timeoutMs });
      if (step.kind === "none") return;
      if (step.kind === "broadcast") {
        record = await broadcast({ store: this.p.store, chain: this.p.chain, record, cause: step.cause, now: this.now });
        continue;
      }
      if (step.rebroadcast) {
        if (!record.raw) return;
        try {
          await this.p.chain.sendRaw(record.raw);
        } catch (error) {
          // A refusal now (the nonce taken meanwhile, say) is settled by the next pass's nonce check.
          if (error instanceof NodeRefusedError) return;
          throw error;
        }
      }
      record = await applyStep({ store: this.p.store, record, to: step.to, cause: step.cause, patch: { ...step.patch, rebroadcast: step.rebroadcast } });
      if (step.rebroadcast || step.to === record?.status) return;
    }
  }
}

/** Writes one change, refusing any the shared table does not allow. */
export async function applyStep(params: { store: LedgerStore; record: LedgerRecord; to: LedgerStatus; cause: string; patch?: LedgerPatch }): Promise<LedgerRecord | undefined> {
  const { record, to } = params;
  if (!isAllowedTransition({ from: record.status, to, side: "server" })) {
    throw new LedgerTransitionError(`The ledger does not move a record from ${record.status} to ${to} (${params.cause}).`, { details: { hash: record.hash } });
  }
  return params.store.transition({ hash: record.hash, from: record.status, to, cause: params.cause, patch: params.patch });
}

/** Broadcasts a draft's raw transaction: pending when the node takes it, failed ("rejected")
 * when it refuses, still a draft when the RPC cannot be reached (the error is thrown). */
export async function broadcast(params: { store: LedgerStore; chain: LedgerChain; record: LedgerRecord; cause: string; now: () => number }): Promise<LedgerRecord | undefined> {
  const { record } = params;
  if (!record.raw) throw new LedgerTransitionError(`Record ${record.hash} holds no raw transaction to broadcast.`);
  try {
    await params.chain.sendRaw(record.raw);
  } catch (error) {
    if (!(error instanceof NodeRefusedError)) throw error;
    return applyStep({ store: params.store, record, to: "failed", cause: error.message, patch: { error: { reason: "rejected", message: error.message } } });
  }
  return applyStep({ store: params.store, record, to: "pending", cause: `broadcast (${params.cause})`, patch: { sentAt: new Date(params.now()) } });
}
