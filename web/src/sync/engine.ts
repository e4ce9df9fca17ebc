/**
 * The sync engine: sends actions, follows them on chain by hash and by (chain, account, nonce),
 * matches them to their indexed rows, demotes them on reorgs, times them out, retries them
 * without ever spending a nonce twice, and holds offline drafts until the connection returns.
 *
 * It reacts to pushes (a receipt, a newly indexed block from the indexer's live stream), never
 * to a polling timer: it holds one stream while something is open or a view watches the index
 * (`watchIndex`), and otherwise holds none and makes no requests.
 * Framework-free: the chain, the indexer, the clock, the storage and the cross-tab lock are
 * injected (`ports.ts`), so tests drive every transition with scripted answers and a fake clock.
 * Which indexed row is whose is decided by `matching.ts`.
 */
import type { Address, Hash } from "viem";
import { PONDER_FINALITY_BLOCKS } from "../../../common/chain";
import { memoryLock } from "./lock";
import { compareWithIndexed, findIndexedRow, indexRowsByHash } from "./matching";
import {
  type ChainPort,
  type Clock,
  type IndexedBlock,
  type IndexerPort,
  type LockFn,
  NonceUsedError,
  StreamRefusedError,
  UnreachableError,
  systemClock,
} from "./ports";
import { DismissRefusedError, RetryRefusedError, canDismiss, ownActions, retryPlan } from "./rules";
import { type PendingActionStore, StoreWriteError } from "./store";
import type { Action, ActionParams, IndexedRow, Receipt, Replacement } from "./types";

/** The engine's own state, for the health panel: its actions, its connections, what it has
 * seen of the chain and the index. (The indexer's `/sync-health` is `SyncHealth` in common/.) */
export type EngineHealth = {
  drafts: number;
  /** Sent and not yet matched by the index (pending and confirmed). */
  pending: number;
  /** Failed, dropped or replaced. */
  failed: number;
  discrepancies: number;
  /** True while the engine holds the indexer's live stream (connected or reconnecting). */
  live: boolean;
  /** True while that stream is connected; false while it connects, after it broke, and while
   * no stream is held. */
  connected: boolean;
  /** Undefined until the first answer (or failure). */
  chainOnline?: boolean;
  indexerOnline?: boolean;
  /** When the chain, and the indexer, last answered (the engine's clock, ms). */
  chainSeenAt?: number;
  indexerSeenAt?: number;
  chainHead?: bigint;
  indexedBlock?: bigint;
  /** Block time of the last indexed block, seconds since the epoch. */
  indexedBlockTimestamp?: bigint;
  /** When the engine learnt of the last indexed block (its clock, ms). */
  indexedSeenAt?: number;
  lastError?: string;
};

export type SyncEngineOptions<S extends PendingActionStore = PendingActionStore> = {
  store: S;
  chain: ChainPort;
  indexer: IndexerPort;
  clock?: Clock;
  /** A pending transaction fails as "timed out" after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** A reconciled action is watched for reorgs until the index is this many blocks past it
   * (default: Ponder's finality depth for local chains, PONDER_FINALITY_BLOCKS). */
  finalityBlocks?: bigint;
  lock?: LockFn;
  newId?: () => string;
};

export const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const FETCH_RETRY_FIRST_MS = 500;
const FETCH_RETRY_MAX_MS = 8_000;

function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const short = (error as Error & { shortMessage?: unknown }).shortMessage;
    return typeof short === "string" ? short : error.message.split("\n")[0] ?? error.message;
  }
  return String(error);
}

export class SyncEngine<S extends PendingActionStore = PendingActionStore> {
  readonly store: S;
  private readonly chain: ChainPort;
  private readonly indexer: IndexerPort;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly finalityBlocks: bigint;
  private readonly lock: LockFn;
  private readonly newId: () => string;

  private started = false;
  /** start() was called and waits for the store's saved actions. */
  private starting = false;
  private unsubscribe: (() => void) | undefined;
  private timeoutHandle: unknown;
  /** A pass whose read of the index failed, or that could not send a draft because the chain or
   * the indexer was unreachable, is tried again after this long (ms), doubling up to 8 s: the
   * index may be busy (503) or briefly down, and no pushed block may come to trigger the next pass. */
  private fetchRetryMs = FETCH_RETRY_FIRST_MS;
  private fetchRetryHandle: unknown;
  /** This pass could not save a draft (or read its stored copy): try again after the back-off. */
  private saveFailed = false;
  /** While the chain has mined a watched action in a block the index has not reported, the
   * engine reads the index's block itself after this long (ms), doubling up to 8 s: a pushed
   * block can be lost (Ponder's live endpoint sends nothing for a change that commits while
   * the stream connects), and nothing else would ask again. */
  private catchUpMs = FETCH_RETRY_FIRST_MS;
  private catchUpHandle: unknown;
  /** Hashes with a receipt watch running. */
  private readonly watching = new Set<Hash>();
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private healthState: EngineHealth = {
    drafts: 0,
    pending: 0,
    failed: 0,
    discrepancies: 0,
    live: false,
    connected: false,
  };
  /** Views watching the index (`watchIndex`): while there is one, the stream is held. */
  private watchers = 0;
  private readonly healthListeners = new Set<() => void>();
  /** Every send the engine made, for tests and the health panel's honesty. */
  sends = 0;

  constructor(options: SyncEngineOptions<S>) {
    this.store = options.store;
    this.chain = options.chain;
    this.indexer = options.indexer;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.finalityBlocks = options.finalityBlocks ?? BigInt(PONDER_FINALITY_BLOCKS);
    this.lock = options.lock ?? memoryLock();
    this.newId = options.newId ?? (() => globalThis.crypto.randomUUID());
    this.store.subscribe(() => {
      this.updateCounts();
      // Open the stream the moment something is open (not at the end of the next pass).
      if (this.started) this.updateSubscription();
    });
    this.updateCounts();
  }

  /** Resumes everything saved (drafts are sent, pending ones followed) and reacts from now on;
   * a store still loading its saved actions is waited for first. */
  start(): Promise<void> {
    const loading = this.store.loading();
    if (!loading) return this.begin();
    this.starting = true;
    return loading.then(() => {
      if (!this.starting) return;
      this.starting = false;
      return this.begin();
    });
  }

  private begin(): Promise<void> {
    this.started = true;
    this.updateSubscription();
    return this.refresh();
  }

  stop(): void {
    this.starting = false;
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timeoutHandle !== undefined) this.clock.clearTimeout(this.timeoutHandle);
    this.timeoutHandle = undefined;
    if (this.fetchRetryHandle !== undefined) this.clock.clearTimeout(this.fetchRetryHandle);
    this.fetchRetryHandle = undefined;
    this.stopCatchUp();
    this.setHealth({ live: false, connected: false });
  }

  /**
   * Records a new action as a draft (shown at once) and sends it when it can. With an
   * `intentId` that an action already carries (a double-click, a second Confirm, another tab),
   * returns that action and changes nothing: no second draft, no second send.
   */
  submit(params: { account: Address; params: ActionParams; intentId?: string }): Action {
    const now = this.clock.now();
    const action: Action = {
      id: this.newId(),
      chainId: this.chain.chainId,
      account: params.account,
      params: params.params,
      ...(params.intentId === undefined ? {} : { intentId: params.intentId }),
      status: "draft",
      createdAt: now,
      updatedAt: now,
      hashes: [],
    };
    const kept = this.store.add(action);
    if (kept !== action) return kept;
    void this.refresh();
    return action;
  }

  /**
   * Tries a finished failure again where a retry can succeed (`retryPlan`: timed out, dropped,
   * cancelled); anything else throws RetryRefusedError and changes nothing. One that owns a
   * nonce (timed out, dropped) keeps it: the engine first checks whether the nonce was used
   * meanwhile and, if not, resends with that same nonce, so at most one transaction can land.
   */
  retry(id: string): Promise<void> {
    // Another tab may have retried or dismissed it meanwhile.
    this.store.reload();
    const action = this.store.get(id);
    if (!action) throw new Error(`unknown action ${id}`);
    const plan = retryPlan(action);
    if (!plan.retryable) throw new RetryRefusedError({ action, why: plan.why });
    const keepsNonce = plan.keepsNonce;
    this.store.update(id, {
      status: "draft",
      error: undefined,
      replacedBy: undefined,
      ...(keepsNonce ? {} : { nonce: undefined, reservedAtBlock: undefined, hash: undefined, hashes: [] }),
    });
    return this.refresh();
  }

  /**
   * Dismisses a finished failure: it leaves the rows and the counts, and the dismissal is saved
   * (every tab, every reload). Anything else throws DismissRefusedError and changes nothing.
   */
  dismiss(id: string): void {
    this.store.reload();
    const action = this.store.get(id);
    if (!action) throw new Error(`unknown action ${id}`);
    if (!canDismiss(action)) throw new DismissRefusedError({ action });
    this.store.update(id, { dismissedAt: this.clock.now() });
  }

  /** The connection may be back (the browser's `online` event, another tab's change). */
  nudge(): Promise<void> {
    return this.refresh();
  }

  health(): EngineHealth {
    return this.healthState;
  }

  subscribeHealth(listener: () => void): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  /** One pass: chain head, drafts sent, receipts followed, indexed rows matched, timers set.
   * Passes never overlap; a request during a pass runs one more pass after it. */
  refresh(): Promise<void> {
    if (!this.started) return Promise.resolve();
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    const run = async () => {
      do {
        this.refreshAgain = false;
        await this.pass();
      } while (this.refreshAgain && this.started);
    };
    this.refreshing = run().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async pass(): Promise<void> {
    this.saveFailed = false;
    let chainOnline = true;
    try {
      const head = await this.chain.getBlockNumber();
      this.setHealth({ chainHead: head, chainOnline: true });
    } catch (error) {
      chainOnline = false;
      this.setHealth({ chainOnline: false, lastError: errorMessage(error) });
    }
    if (chainOnline) {
      // A draft is sent only when its outcome can be followed: with the indexer known to be
      // down it waits (the stream's reconnect says when it is back, or the index's answer here:
      // a stream that stayed connected while other requests failed never reconnects).
      if (this.healthState.indexerOnline === false && this.hasDrafts()) await this.probeIndex();
      if (this.healthState.indexerOnline !== false) await this.flushDrafts();
      await this.checkNonces();
    }
    for (const action of this.store.list()) {
      if (action.status === "pending" && action.hash) this.watch(action.id);
    }
    await this.matchIndexedRows();
    this.checkTimeouts();
    this.updateSubscription();
    this.checkIndexLag();
    // A draft held back by an unreachable chain or indexer is tried again after the back-off:
    // the browser's `online` event and the stream's reconnect are cues, but a network can fail
    // and come back without either (the stream, connected before, stays up meanwhile).
    if (this.hasDrafts() && (!chainOnline || this.healthState.indexerOnline === false || this.saveFailed)) this.scheduleFetchRetry();
  }

  private hasDrafts(): boolean {
    return this.mine().some((a) => a.status === "draft");
  }

  /** Asks the index for its block: is the indexer back? */
  private async probeIndex(): Promise<void> {
    try {
      const block = await this.indexer.readIndexedBlock();
      this.setHealth({ indexerOnline: true });
      if (block) this.noteIndexedBlock(block);
    } catch (error) {
      this.setHealth({ indexerOnline: false, lastError: errorMessage(error) });
    }
  }

  /** The actions the engine follows: every account's on this chain (a receipt or a reorg needs
   * no wallet). Listing and counting is for the current account only: `owned()`. */
  private mine(): readonly Action[] {
    // Kept while the store's snapshot is the same array (it is a new one after every change):
    // one pass asks for it several times, and each filter walks every action.
    const list = this.store.list();
    const chainId = this.chain.chainId;
    const cached = this.mineCache;
    if (cached?.list === list && cached.chainId === chainId) return cached.mine;
    const mine = list.filter((a) => a.chainId === chainId);
    this.mineCache = { list, chainId, mine };
    return mine;
  }

  private mineCache: { list: readonly Action[]; chainId: number; mine: readonly Action[] } | undefined;

  /** The current account's actions on this chain, dismissed ones left out (what the health
   * counts); without an account, every account's. */
  private owned(): Action[] {
    const account = this.chain.account;
    if (!account) return this.mine().filter((a) => a.dismissedAt === undefined);
    return ownActions(this.store.list(), { chainId: this.chain.chainId, account });
  }

  /** What an action becomes when another transaction used its nonce. */
  private replacedPatch(action: Action, by: { hash?: Hash; cancel?: boolean }): Partial<Action> {
    const slot = `nonce ${action.nonce} was used by`;
    return {
      status: "replaced",
      replacedBy: by.hash,
      error: by.cancel
        ? { reason: "cancelled", message: `cancelled: ${slot} ${by.hash ?? "a cancellation"}` }
        : {
            reason: "replaced",
            message: by.hash ? `${slot} another transaction (${by.hash})` : `${slot} another transaction`,
          },
    };
  }

  /** Sends drafts oldest first, one account at a time under that account's lock. */
  private async flushDrafts(): Promise<void> {
    for (const draft of this.mine()) {
      if (draft.status !== "draft") continue;
      if (this.chain.account && draft.account.toLowerCase() !== this.chain.account.toLowerCase()) continue;
      const ok = await this.lock(`jenga-send:${this.chain.chainId}:${draft.account.toLowerCase()}`, () =>
        this.sendDraft(draft.id),
      );
      if (!ok) return;
    }
  }

  /** Sends one draft. Returns false when the chain is unreachable or the store cannot save
   * (stop trying for now). Runs under the account's cross-tab lock, which it holds until what
   * it sent is saved. */
  private async sendDraft(id: string): Promise<boolean> {
    // The draft is durable before anything is sent for it; another tab may have sent it while
    // this one waited for the lock, so its stored copy is read again. Either failing, it waits.
    try {
      await this.store.flush();
      await this.store.reread([id]);
    } catch (error) {
      this.saveFailed = true;
      this.setHealth({ lastError: errorMessage(error) });
      return false;
    }
    let action = this.store.get(id);
    if (!action || action.status !== "draft") return true;
    try {
      if (action.nonce === undefined) {
        action = await this.reserveNonce(action);
      } else if (await this.settleUsedNonce(action)) {
        return true;
      }
      await this.sendWithNonce(action);
      return true;
    } catch (error) {
      return this.onSendError(id, error);
    }
  }

  /** Takes the account's next nonce for the action and saves it before anything is sent:
   * after a crash or reload mid-send, the nonce says where to look. */
  private async reserveNonce(action: Action): Promise<Action> {
    const reservedAtBlock = await this.chain.getBlockNumber();
    const nonce = await this.chain.getNonce({ account: action.account, blockTag: "pending" });
    const reserved = this.store.update(action.id, { nonce, reservedAtBlock });
    await this.store.flush();
    return reserved;
  }

  /** Sends the action with the nonce it owns and follows the new hash, which is saved before
   * the lock is let go (a tab that takes it next finds the action pending). */
  private async sendWithNonce(action: Action): Promise<void> {
    const nonce = action.nonce!;
    const hash = await this.chain.send({ action, nonce, replace: action.hashes.length > 0 });
    this.sends++;
    this.store.update(action.id, {
      status: "pending",
      hash,
      hashes: action.hashes.includes(hash) ? action.hashes : [...action.hashes, hash],
      sentAt: this.clock.now(),
      error: undefined,
    });
    this.watch(action.id);
    await this.store.flush();
  }

  /** A send failed. Returns false when the chain is unreachable (the draft waits); otherwise
   * the draft is settled and the next one may go. */
  private onSendError(id: string, error: unknown): boolean {
    // Not saved: nothing more is sent until it is (a sent one stays pending in memory, and its
    // saved nonce finds it after a reload).
    if (error instanceof StoreWriteError) {
      this.saveFailed = true;
      this.setHealth({ lastError: error.message });
      return false;
    }
    if (error instanceof UnreachableError) {
      this.setHealth({ chainOnline: false, lastError: error.message });
      return false;
    }
    // The nonce is taken (by this action's own earlier send, or another): the next pass
    // finds the transaction by nonce. Nothing is resent meanwhile.
    if (error instanceof NonceUsedError) return true;
    this.store.update(id, {
      status: "failed",
      nonce: undefined,
      reservedAtBlock: undefined,
      error: { reason: "rejected", message: errorMessage(error) },
    });
    return true;
  }

  /**
   * For an action that owns a nonce: if the chain has used that nonce, adopts the transaction
   * when it carries this action's call (its own earlier send), else marks the action replaced.
   * Returns true when the nonce was used (nothing may be sent).
   */
  private async settleUsedNonce(action: Action): Promise<boolean> {
    if (action.nonce === undefined) return false;
    const latest = await this.chain.getNonce({ account: action.account, blockTag: "latest" });
    if (latest <= action.nonce) return false;
    const found = await this.chain.findByNonce({ action, fromBlock: action.reservedAtBlock ?? 0n });
    if (found && (found.sameCall || action.hashes.includes(found.hash))) {
      this.store.update(action.id, {
        status: "pending",
        hash: found.hash,
        hashes: action.hashes.includes(found.hash) ? action.hashes : [...action.hashes, found.hash],
        // A fresh timeout window for the adopted transaction.
        sentAt: this.clock.now(),
        error: undefined,
      });
      this.watch(action.id);
      return true;
    }
    this.store.update(action.id, this.replacedPatch(action, { hash: found?.hash, cancel: found?.cancel }));
    return true;
  }

  /**
   * Tracking by (chain, account, nonce): for each pending action whose nonce the chain has
   * used, the transaction in that slot decides. Its own hash: the receipt watch confirms it.
   * The same call under another hash (a speed-up the watch missed): adopted. Anything else:
   * replaced. One nonce read per account per pushed block, only while something is pending.
   */
  private async checkNonces(): Promise<void> {
    const latestByAccount = new Map<string, number>();
    try {
      for (const action of this.mine()) {
        if (action.status !== "pending" || action.nonce === undefined || !action.hash) continue;
        const latest = await this.latestNonce(action.account, latestByAccount);
        if (latest <= action.nonce) continue;
        const found = await this.chain.findByNonce({ action, fromBlock: action.reservedAtBlock ?? 0n });
        if (found) this.onPendingNonceUsed(action, found);
      }
    } catch (error) {
      this.setHealth({ lastError: errorMessage(error) });
    }
  }

  /** The account's count of mined transactions, read once per account per pass (`cache`). */
  private async latestNonce(account: Address, cache: Map<string, number>): Promise<number> {
    const key = account.toLowerCase();
    let latest = cache.get(key);
    if (latest === undefined) {
      latest = await this.chain.getNonce({ account, blockTag: "latest" });
      cache.set(key, latest);
    }
    return latest;
  }

  /** The chain used a pending action's nonce for `found`: adopted when it carries the action's
   * call or is one of its hashes, else the action is replaced. `action` is as it was before the
   * lookup; the store's current copy decides whether it is still pending. */
  private onPendingNonceUsed(action: Action, found: { hash: Hash; sameCall: boolean }): void {
    const current = this.store.get(action.id);
    if (!current || current.status !== "pending" || current.hash === found.hash) return;
    if (found.sameCall || current.hashes.includes(found.hash)) {
      this.store.update(action.id, {
        hash: found.hash,
        hashes: current.hashes.includes(found.hash) ? current.hashes : [...current.hashes, found.hash],
      });
      this.watch(action.id);
    } else {
      this.store.update(action.id, this.replacedPatch(action, found));
    }
  }

  /** Follows one pending action's hash until its receipt (or its replacement's). */
  private watch(id: string): void {
    const action = this.store.get(id);
    if (!action?.hash || this.watching.has(action.hash)) return;
    const watched = action.hash;
    let current = watched;
    this.watching.add(watched);
    this.chain
      .waitForReceipt({
        action,
        hash: watched,
        timeoutMs: Math.max(0, (action.sentAt ?? this.clock.now()) + this.timeoutMs - this.clock.now()),
        onReplaced: (replacement) => {
          current = replacement.hash;
          this.onReplaced(id, watched, replacement);
        },
      })
      .then(
        (receipt) => this.onReceipt(id, current, receipt),
        (error: unknown) => {
          // The watch gave up (the port's own timeout, a lost connection): the engine's timer
          // and the next pushed block decide what happens; record why for the panel.
          this.setHealth({ lastError: errorMessage(error) });
        },
      )
      .finally(() => {
        this.watching.delete(watched);
      });
  }

  private onReplaced(id: string, oldHash: Hash, replacement: Replacement): void {
    const action = this.store.get(id);
    if (!action || action.hash !== oldHash) return;
    if (replacement.reason === "repriced") {
      // A speed-up: same call, new hash. Still this action.
      this.store.update(id, {
        hash: replacement.hash,
        hashes: action.hashes.includes(replacement.hash) ? action.hashes : [...action.hashes, replacement.hash],
      });
      return;
    }
    this.store.update(id, this.replacedPatch(action, { hash: replacement.hash, cancel: replacement.reason === "cancelled" }));
  }

  private onReceipt(id: string, hash: Hash, receipt: Receipt): void {
    const action = this.store.get(id);
    if (!action || action.hash !== hash) return;
    const open = action.status === "pending" || (action.status === "failed" && action.error?.reason === "timeout");
    if (!open) return;
    if (receipt.status === "success") {
      this.store.update(id, {
        status: "confirmed",
        blockNumber: receipt.blockNumber,
        logIndex: receipt.logIndex,
        error: undefined,
        // A timed-out action that lands after all is shown again, dismissed or not.
        dismissedAt: undefined,
      });
    } else {
      this.store.update(id, {
        status: "failed",
        blockNumber: receipt.blockNumber,
        error: {
          reason: "reverted",
          message: receipt.revertReason
            ? `reverted: ${receipt.revertReason}`
            : `reverted in block ${receipt.blockNumber}`,
        },
      });
    }
    // The index may already hold the row.
    void this.refresh();
  }

  /** Actions whose fate the index can still change. */
  private isWatched(action: Action): boolean {
    if (action.status === "pending" || action.status === "confirmed") return true;
    if (action.status !== "reconciled") return false;
    const indexed = this.healthState.indexedBlock;
    return indexed === undefined || action.blockNumber === undefined || indexed < action.blockNumber + this.finalityBlocks;
  }

  /**
   * Matches watched actions to indexed rows by hash and log index: one Map, one pass, and all
   * its status changes written to the store as one update (one save, one notification).
   */
  private async matchIndexedRows(): Promise<void> {
    const watched = this.mine().filter((a) => this.isWatched(a));
    if (watched.length === 0) return;
    const rows = await this.fetchWatchedRows(watched);
    if (!rows) return;
    const { current, hashes } = this.rereadWatched(watched);
    const byHash = indexRowsByHash({ rows, hashes });
    const patches: { id: string; patch: Partial<Action> }[] = [];
    const demoted: string[] = [];
    for (const action of current) {
      const match = findIndexedRow({ action, byHash });
      if (match) {
        const patch = this.reconciledPatch(action, match);
        if (patch) patches.push({ id: action.id, patch });
      } else if (this.leftTheIndex(action)) {
        // Its block was indexed and its row is gone (or never came): a reorg took it out.
        patches.push({
          id: action.id,
          patch: { status: "pending", reorged: true, sentAt: this.clock.now(), blockNumber: undefined, logIndex: undefined },
        });
        demoted.push(action.id);
      }
    }
    this.store.updateMany(patches);
    for (const id of demoted) void this.afterReorg(id);
  }

  /** The indexed rows of the watched actions' hashes, or undefined when the index could not be
   * read (then a retry is scheduled). */
  private async fetchWatchedRows(watched: readonly Action[]): Promise<IndexedRow[] | undefined> {
    try {
      const rows = await this.indexer.fetchRows({ hashes: [...new Set(watched.flatMap((a) => a.hashes))] });
      this.setHealth({ indexerOnline: true });
      this.fetchRetryMs = FETCH_RETRY_FIRST_MS;
      return rows;
    } catch (error) {
      this.setHealth({ indexerOnline: false, lastError: errorMessage(error) });
      this.scheduleFetchRetry();
      return undefined;
    }
  }

  /** Runs one more pass after the current back-off, doubling it up to 8 s. */
  private scheduleFetchRetry(): void {
    if (!this.started || this.fetchRetryHandle !== undefined) return;
    this.fetchRetryHandle = this.clock.setTimeout(() => {
      this.fetchRetryHandle = undefined;
      void this.refresh();
    }, this.fetchRetryMs);
    this.fetchRetryMs = Math.min(this.fetchRetryMs * 2, FETCH_RETRY_MAX_MS);
  }

  /** The watched actions read again (receipts and replacements may have landed during the
   * fetch), those still watched, with all their hashes in lowercase. */
  private rereadWatched(watched: readonly Action[]): { current: Action[]; hashes: Set<string> } {
    const current: Action[] = [];
    const hashes = new Set<string>();
    for (const stale of watched) {
      const action = this.store.get(stale.id);
      if (!action || !this.isWatched(action)) continue;
      current.push(action);
      for (const hash of action.hashes) hashes.add(hash.toLowerCase());
    }
    return { current, hashes };
  }

  /** What an action becomes once its indexed row is found (its hash, block, log index and the
   * indexed values, with any discrepancies); undefined when it is already reconciled with that
   * row's transaction. */
  private reconciledPatch(action: Action, match: IndexedRow): Partial<Action> | undefined {
    const matchHash = match.transactionHash.toLowerCase();
    if (action.status === "reconciled" && action.hash?.toLowerCase() === matchHash) return undefined;
    const discrepancies = compareWithIndexed(action.params, action.account, match);
    return {
      status: "reconciled",
      hash: action.hashes.find((h) => h.toLowerCase() === matchHash) ?? match.transactionHash,
      blockNumber: match.blockNumber,
      logIndex: match.logIndex ?? action.logIndex,
      indexed: { chamaId: match.chamaId, amount: match.amount, account: match.account, name: match.name },
      discrepancies: discrepancies.length > 0 ? discrepancies : undefined,
      error: undefined,
    };
  }

  /** An action without an indexed row whose row the index should hold: it was reconciled, or
   * its receipt's block is indexed. */
  private leftTheIndex(action: Action): boolean {
    if (action.status === "reconciled") return true;
    const indexedBlock = this.healthState.indexedBlock;
    return (
      action.status === "confirmed" &&
      action.blockNumber !== undefined &&
      indexedBlock !== undefined &&
      indexedBlock >= action.blockNumber
    );
  }

  /** After a demotion: follow the transaction if the node still knows it; else the nonce says
   * whether it was replaced or simply dropped. */
  private async afterReorg(id: string): Promise<void> {
    const action = this.store.get(id);
    if (!action?.hash) return;
    try {
      const known = await this.chain.getTransaction(action.hash);
      if (known) {
        this.watch(id);
        return;
      }
      if (await this.settleUsedNonce(action)) return;
      this.store.update(id, {
        status: "dropped",
        error: {
          reason: "dropped",
          message: `dropped after a reorg; nonce ${action.nonce} is still free, so a retry resends it with that nonce`,
        },
      });
    } catch (error) {
      this.setHealth({ lastError: errorMessage(error) });
    }
  }

  private checkTimeouts(): void {
    if (this.timeoutHandle !== undefined) this.clock.clearTimeout(this.timeoutHandle);
    this.timeoutHandle = undefined;
    const now = this.clock.now();
    let next: number | undefined;
    const timedOut: { id: string; patch: Partial<Action> }[] = [];
    for (const action of this.mine()) {
      if (action.status !== "pending" || action.sentAt === undefined) continue;
      const deadline = action.sentAt + this.timeoutMs;
      if (deadline <= now) {
        timedOut.push({ id: action.id, patch: this.timedOutPatch(action) });
      } else if (next === undefined || deadline < next) {
        next = deadline;
      }
    }
    this.store.updateMany(timedOut);
    if (next !== undefined && this.started) {
      this.timeoutHandle = this.clock.setTimeout(() => {
        this.timeoutHandle = undefined;
        void this.refresh();
      }, next - now);
    }
  }

  /** A pending action past its deadline: failed, keeping its nonce for a retry. */
  private timedOutPatch(action: Action): Partial<Action> {
    return {
      status: "failed",
      error: {
        reason: "timeout",
        message: `timed out after ${Math.round(this.timeoutMs / 1000)} s without a receipt; retry reuses nonce ${action.nonce}`,
      },
    };
  }

  /**
   * Holds the indexer's live stream while the returned release is not called: a mounted view
   * watches the index, so every pushed block refetches it and another member's change shows
   * without a reload. Ref-counted: any number of views share the one stream.
   */
  watchIndex(): () => void {
    this.watchers++;
    this.updateSubscription();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.watchers--;
      this.updateSubscription();
    };
  }

  /** Holds the indexer's live stream exactly while a view watches the index or something is open. */
  private updateSubscription(): void {
    const needed =
      this.started && (this.watchers > 0 || this.mine().some((a) => a.status === "draft" || this.isWatched(a)));
    if (needed && !this.unsubscribe) {
      this.unsubscribe = this.indexer.subscribe({
        onOpen: () => this.setHealth({ connected: true, indexerOnline: true }),
        onBlock: (block) => {
          this.catchUpMs = FETCH_RETRY_FIRST_MS;
          this.learnIndexedBlock(block);
        },
        // A refused stream is an answer: the indexer is reachable, only not live (yet).
        onError: (error) =>
          this.setHealth({
            connected: false,
            ...(error instanceof StreamRefusedError ? {} : { indexerOnline: false }),
            lastError: errorMessage(error),
          }),
      });
      this.setHealth({ live: true });
    } else if (!needed && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
      this.setHealth({ live: false, connected: false });
    }
  }

  private learnIndexedBlock(block: IndexedBlock): void {
    this.setHealth({
      indexedBlock: block.number,
      indexedBlockTimestamp: block.timestamp,
      indexedSeenAt: this.clock.now(),
      indexerOnline: true,
    });
    void this.refresh();
  }

  /** A watched action sits in a block past the index's known block: read the index's block
   * after a while, backing off, for as long as that holds. */
  private checkIndexLag(): void {
    const indexed = this.healthState.indexedBlock;
    const behind = this.mine().some(
      (a) =>
        this.isWatched(a) &&
        a.status !== "pending" &&
        a.blockNumber !== undefined &&
        (indexed === undefined || indexed < a.blockNumber),
    );
    if (!behind || !this.started) {
      this.stopCatchUp();
      return;
    }
    if (this.catchUpHandle !== undefined) return;
    const handle: unknown = this.clock.setTimeout(() => {
      void this.catchUp(handle);
    }, this.catchUpMs);
    this.catchUpHandle = handle;
    this.catchUpMs = Math.min(this.catchUpMs * 2, FETCH_RETRY_MAX_MS);
  }

  /** One read of the index's block; `handle` is the timer that ran it (if the engine was
   * stopped or rescheduled meanwhile, the answer is dropped). */
  private async catchUp(handle: unknown): Promise<void> {
    let block: IndexedBlock | undefined;
    let failure: unknown;
    try {
      block = await this.indexer.readIndexedBlock();
    } catch (error) {
      failure = error ?? new Error("unknown error");
    }
    if (this.catchUpHandle !== handle) return;
    this.catchUpHandle = undefined;
    if (failure !== undefined) {
      this.setHealth({ indexerOnline: false, lastError: errorMessage(failure) });
    } else {
      const known = this.healthState;
      if (block && (block.number !== known.indexedBlock || block.timestamp !== known.indexedBlockTimestamp)) {
        this.learnIndexedBlock(block);
        return;
      }
      this.setHealth({ indexerOnline: true });
    }
    this.checkIndexLag();
  }

  private stopCatchUp(): void {
    if (this.catchUpHandle !== undefined) this.clock.clearTimeout(this.catchUpHandle);
    this.catchUpHandle = undefined;
    this.catchUpMs = FETCH_RETRY_FIRST_MS;
  }

  /** Records an indexed block learnt elsewhere (the app's first query) without a stream. */
  noteIndexedBlock(block: IndexedBlock): void {
    const known = this.healthState.indexedBlock;
    if (known !== undefined && known >= block.number) return;
    this.setHealth({ indexedBlock: block.number, indexedBlockTimestamp: block.timestamp, indexedSeenAt: this.clock.now() });
  }

  /** Records whether the indexer answered a request made elsewhere (a page's query, the
   * operator page's /sync-health), so the health says what was last seen of it. */
  noteIndexer(params: { online: boolean; error?: string }): void {
    this.setHealth(
      params.online ? { indexerOnline: true } : { indexerOnline: false, lastError: params.error ?? "indexer unreachable" },
    );
  }

  private updateCounts(): void {
    let drafts = 0;
    let pending = 0;
    let failed = 0;
    let discrepancies = 0;
    for (const action of this.owned()) {
      if (action.status === "draft") drafts++;
      else if (action.status === "pending" || action.status === "confirmed") pending++;
      else if (action.status === "failed" || action.status === "dropped" || action.status === "replaced") failed++;
      if (action.discrepancies && action.discrepancies.length > 0) discrepancies++;
    }
    this.setHealth({ drafts, pending, failed, discrepancies });
  }

  private setHealth(update: Partial<EngineHealth>): void {
    // Every answer dates what is known of its side, so the panel can give its age.
    let patch = update;
    if (patch.chainOnline === true) patch = { ...patch, chainSeenAt: this.clock.now() };
    if (patch.indexerOnline === true) patch = { ...patch, indexerSeenAt: this.clock.now() };
    let changed = false;
    for (const [key, value] of Object.entries(patch) as [keyof EngineHealth, EngineHealth[keyof EngineHealth]][]) {
      if (this.healthState[key] !== value) changed = true;
    }
    if (!changed) return;
    this.healthState = { ...this.healthState, ...patch };
    for (const listener of this.healthListeners) listener();
  }
}
