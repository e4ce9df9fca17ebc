/**
 * The pending-action store in IndexedDB: one record per action, so a change writes only the
 * actions it changed, in one transaction, and no save rewrites the others.
 *
 * - Working copy: an in-memory Map, read synchronously by the engine and React. Every change is
 *   applied there at once and written to IndexedDB in the order it was made (IndexedDB runs
 *   read-write transactions on one store in the order they were created). `flush()` resolves
 *   once everything written so far is committed: the engine awaits it before it sends anything
 *   for an action ("record first, send second").
 * - Tabs: after each commit the store names the ids it wrote on a BroadcastChannel; the other
 *   tabs read those records alone and keep the newer copy of each. A write applies its patches
 *   to the stored record's newest copy (read in the same transaction), so a tab whose copy is a
 *   moment behind never writes back over another tab's change.
 * - Migration: on first open, the earlier store's localStorage key (`jenga.actions.v1`) is moved
 *   in, under a cross-tab lock: every action put unless a newer copy is stored, the move counted
 *   in a meta record in the same transaction, then the key removed. A second tab (or a reload)
 *   finds no key and moves nothing; a crash between the commit and the removal moves the same
 *   actions again onto their newer copies, which keep winning. An unreadable key is left in
 *   place with a notice, and the app goes on.
 * - No IndexedDB (some private modes): the actions live in memory only, with a notice saying
 *   they will not survive a reload.
 */
import { type DBSchema, type IDBPDatabase, wrap } from "idb";
import { errorMessage } from "../../../common/errors";
import { memoryLock } from "./lock";
import type { LockFn } from "./ports";
import {
  DEFAULT_MAX_AGE_MS,
  DEFAULT_STORAGE_KEY,
  type PendingActionStore,
  type StoreNotice,
  StoreWriteError,
  deserializeActions,
} from "./store";
import type { Action } from "./types";

export const ACTIONS_DB_NAME = "jenga-actions";
const DB_VERSION = 1;
const MIGRATION_LOCK = "jenga-actions-migration";

/** What the migration records (meta store, key "migration"): how often a key was moved in. */
export type MigrationRecord = { key: "migration"; from: string; runs: number; actions: number; at: number };

interface ActionsSchema extends DBSchema {
  actions: { key: string; value: Action };
  meta: { key: string; value: MigrationRecord };
}

type ActionsDb = IDBPDatabase<ActionsSchema>;

/** The earlier store's storage (localStorage): read once, then the key removed. */
export type LegacyStorage = { getItem: (key: string) => string | null; removeItem: (key: string) => void };

/** A cross-tab message bus (BroadcastChannel). */
export type ChangeChannel = {
  postMessage: (message: unknown) => void;
  addEventListener: (type: "message", listener: (event: MessageEvent) => void) => void;
  close: () => void;
};

export type IdbActionStoreOptions = {
  now: () => number;
  /** Actions older than this are forgotten on load, except ones still pending on chain. */
  maxAgeMs?: number;
  /** Default: the platform's `indexedDB`; undefined there means the in-memory fallback. */
  indexedDB?: IDBFactory;
  dbName?: string;
  /** The earlier store to move in once (the browser's localStorage). */
  legacy?: { storage: LegacyStorage; key?: string };
  /** Held while moving the earlier store in (Web Locks in the browser). */
  lock?: LockFn;
  /** Default: a BroadcastChannel named after the database, where the platform has one. */
  channel?: ChangeChannel;
};

/** One change as written: a whole action, or patches made on a copy stamped `base`. */
type Change =
  | { kind: "put"; action: Action }
  | { kind: "patch"; id: string; base: number; patches: Partial<Action>[]; now: number; result: Action };

type ChangeMessage = { ids: string[] };

function isChangeMessage(data: unknown): data is ChangeMessage {
  return typeof data === "object" && data !== null && Array.isArray((data as ChangeMessage).ids);
}

function changeId(change: Change): string {
  return change.kind === "put" ? change.action.id : change.id;
}

/** A patch applied as `update` applies it: stamped with the clock, or one past the copy's stamp. */
function applyPatch(current: Action, patch: Partial<Action>, now: number): Action {
  return { ...current, ...patch, updatedAt: Math.max(now, current.updatedAt + 1) };
}

function isAction(value: unknown): value is Action {
  const a = value as Partial<Action> | null;
  return typeof a === "object" && a !== null && typeof a.id === "string" && typeof a.updatedAt === "number" && typeof a.createdAt === "number";
}

/** Opens (creating on first use) the actions database. */
async function openActionsDb(factory: IDBFactory, name: string): Promise<ActionsDb> {
  const request = factory.open(name, DB_VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains("actions")) db.createObjectStore("actions", { keyPath: "id" });
    if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta", { keyPath: "key" });
  };
  const db = (await wrap(request)) as unknown as ActionsDb;
  // A newer version opened elsewhere: let it upgrade (this tab keeps its working copy).
  db.addEventListener("versionchange", () => db.close());
  return db;
}

export class IdbActionStore implements PendingActionStore {
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  private readonly lock: LockFn;
  private readonly legacy: { storage: LegacyStorage; key: string } | undefined;
  private readonly channel: ChangeChannel | undefined;
  private actions = new Map<string, Action>();
  private snapshot: Action[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly externalListeners = new Set<() => void>();
  private noticeList: readonly StoreNotice[] = [];
  private db: ActionsDb | undefined;
  private loadingPromise: Promise<void> | undefined;
  /** Changes made before the database was open, written in order once it is. */
  private early: Change[][] = [];
  /** Transactions not yet settled. */
  private readonly inflight = new Set<Promise<void>>();
  /** Ids whose last write failed: written again (their current copy) with the next change. */
  private readonly unsaved = new Set<string>();
  private lastWriteError: StoreWriteError | undefined;
  private closed = false;
  /** Records written, for tests and the benchmark. */
  recordsWritten = 0;
  transactions = 0;

  constructor(options: IdbActionStoreOptions) {
    this.now = options.now;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.lock = options.lock ?? memoryLock();
    this.legacy = options.legacy && { storage: options.legacy.storage, key: options.legacy.key ?? DEFAULT_STORAGE_KEY };
    const factory = "indexedDB" in options ? options.indexedDB : (globalThis.indexedDB as IDBFactory | undefined);
    const name = options.dbName ?? ACTIONS_DB_NAME;
    this.channel = options.channel ?? (typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : undefined);
    this.channel?.addEventListener("message", (event) => {
      if (isChangeMessage(event.data)) void this.rereadFromTab(event.data.ids);
    });
    this.loadingPromise = this.load(factory, name).finally(() => {
      this.loadingPromise = undefined;
    });
  }

  /** True when changes are saved in IndexedDB; false in the in-memory fallback. */
  get durable(): boolean {
    return this.db !== undefined;
  }

  loading(): Promise<void> | undefined {
    return this.loadingPromise;
  }

  notices(): readonly StoreNotice[] {
    return this.noticeList;
  }

  get(id: string): Action | undefined {
    return this.actions.get(id);
  }

  list(): Action[] {
    return this.snapshot;
  }

  /** Other tabs' actions arrive by broadcast and are in the working copy already; an intent
   * submitted again (a double-click, a second Confirm) is found there. */
  add(action: Action): Action {
    if (action.intentId !== undefined) {
      for (const existing of this.actions.values()) {
        if (existing.intentId === action.intentId) return existing;
      }
    }
    this.put(action);
    return action;
  }

  put(action: Action): void {
    this.actions.set(action.id, action);
    this.write([{ kind: "put", action }]);
    this.changed();
  }

  update(id: string, patch: Partial<Action>): Action {
    return this.updateMany([{ id, patch }])[0]!;
  }

  /** Patches apply in order (two for one id both count); an unknown id throws before anything
   * changes. One transaction writes the changed actions alone. */
  updateMany(patches: readonly { id: string; patch: Partial<Action> }[]): Action[] {
    if (patches.length === 0) return [];
    const now = this.now();
    const staged = new Map<string, { base: number; patches: Partial<Action>[]; result: Action }>();
    const out = patches.map(({ id, patch }) => {
      const entry = staged.get(id);
      const current = entry?.result ?? this.actions.get(id);
      if (!current) throw new Error(`unknown action ${id}`);
      const next = applyPatch(current, patch, now);
      if (entry) {
        entry.patches.push(patch);
        entry.result = next;
      } else {
        staged.set(id, { base: current.updatedAt, patches: [patch], result: next });
      }
      return next;
    });
    const changes: Change[] = [];
    for (const [id, entry] of staged) {
      this.actions.set(id, entry.result);
      changes.push({ kind: "patch", id, base: entry.base, patches: entry.patches, now, result: entry.result });
    }
    this.write(changes);
    this.changed(new Map([...staged].map(([id, entry]) => [id, entry.result])));
    return out;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  subscribeExternal(listener: () => void): () => void {
    this.externalListeners.add(listener);
    return () => this.externalListeners.delete(listener);
  }

  /** Other tabs' changes come by broadcast, and every write starts from the stored copy. */
  reload(): void {}

  async reread(ids: readonly string[]): Promise<void> {
    await this.loadingPromise;
    const db = this.db;
    if (!db || ids.length === 0) return;
    const tx = db.transaction("actions", "readonly");
    const stored = await Promise.all(ids.map((id) => tx.store.get(id)));
    await tx.done;
    let changed = false;
    for (const action of stored) {
      if (action && this.adopt(action)) changed = true;
    }
    if (changed) this.changed();
  }

  /** Waits for every write made so far; changes whose write failed are written again first. */
  async flush(): Promise<void> {
    await this.loadingPromise;
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    if (this.unsaved.size > 0) {
      this.write([]);
      while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    }
    if (this.unsaved.size > 0) {
      throw new StoreWriteError(`${this.unsaved.size} action change(s) could not be saved: ${this.lastWriteError?.message ?? "unknown error"}`, {
        cause: this.lastWriteError,
      });
    }
  }

  /** Closes the database and the channel (tests, benchmarks; a page just goes away). */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.closed = true;
    this.channel?.close();
    this.db?.close();
  }

  /** Keeps `action` if it is newer than the working copy's; says whether it did. */
  private adopt(action: Action): boolean {
    const mine = this.actions.get(action.id);
    if (mine && mine.updatedAt >= action.updatedAt) return false;
    this.actions.set(action.id, action);
    return true;
  }

  private async rereadFromTab(ids: string[]): Promise<void> {
    try {
      await this.reread(ids);
    } catch (cause) {
      this.addNotice({ code: "write-failed", message: `Another tab's change could not be read: ${errorMessage(cause)}` });
      return;
    }
    for (const listener of this.externalListeners) listener();
  }

  private async load(factory: IDBFactory | undefined, name: string): Promise<void> {
    let db: ActionsDb;
    try {
      if (!factory) throw new Error("this browser offers no IndexedDB here");
      db = await openActionsDb(factory, name);
    } catch (cause) {
      this.memoryOnly(cause);
      return;
    }
    try {
      await this.lock(MIGRATION_LOCK, () => this.migrate(db));
    } catch (cause) {
      this.addNotice({
        code: "legacy-unreadable",
        message: `The actions this browser saved before could not be moved to IndexedDB (${errorMessage(cause)}); they were left in place. New actions are saved as usual.`,
      });
    }
    const stored = await db.getAll("actions");
    const cutoff = this.now() - this.maxAgeMs;
    const expired: string[] = [];
    for (const action of stored) {
      if (action.createdAt < cutoff && action.status !== "pending") expired.push(action.id);
      else this.adopt(action);
    }
    // From here on writes go straight to the database: first the ones made while it opened,
    // in order, then the expired records' removal (no change of this tab's copy follows it).
    this.db = db;
    const early = this.early;
    this.early = [];
    for (const changes of early) this.write(changes);
    this.changed();
    if (expired.length > 0) {
      const tx = db.transaction("actions", "readwrite");
      for (const id of expired) void tx.store.delete(id);
      await tx.done;
    }
  }

  /** No IndexedDB: the working copy is all there is. The earlier store's actions are shown
   * (read, not moved: the key stays for a browser that can save them). */
  private memoryOnly(cause: unknown): void {
    this.early = [];
    this.addNotice({
      code: "memory-only",
      message: `Actions are kept in this tab's memory only and will not survive a reload: IndexedDB is unavailable (${errorMessage(cause)}).`,
    });
    const text = this.legacy?.storage.getItem(this.legacy.key);
    if (text) {
      try {
        for (const action of deserializeActions(text)) if (isAction(action)) this.adopt(action);
      } catch {
        // Unreadable: the migration's notice applies once IndexedDB is there; nothing to show.
      }
    }
    this.changed();
  }

  /** Moves the earlier store's key in (see the module's comment). */
  private async migrate(db: ActionsDb): Promise<void> {
    if (!this.legacy) return;
    const { storage, key } = this.legacy;
    const text = storage.getItem(key);
    if (text === null) return;
    let actions: Action[];
    try {
      actions = deserializeActions(text);
      const bad = actions.findIndex((a) => !isAction(a));
      if (bad !== -1) throw new Error(`entry ${bad} is not an action`);
    } catch (cause) {
      this.addNotice({
        code: "legacy-unreadable",
        message: `The actions this browser saved before (localStorage key "${key}") are unreadable: ${errorMessage(cause)}. They were left in place, and are neither shown nor sent; remove that key to drop them. New actions are saved as usual.`,
      });
      return;
    }
    const tx = db.transaction(["actions", "meta"], "readwrite");
    const store = tx.objectStore("actions");
    const meta = tx.objectStore("meta");
    const [previous, stored] = await Promise.all([meta.get("migration"), Promise.all(actions.map((a) => store.get(a.id)))]);
    const moved: string[] = [];
    actions.forEach((action, i) => {
      const current = stored[i];
      if (current && current.updatedAt >= action.updatedAt) return;
      void store.put(action);
      moved.push(action.id);
    });
    void meta.put({ key: "migration", from: key, runs: (previous?.runs ?? 0) + 1, actions: actions.length, at: this.now() });
    await tx.done;
    storage.removeItem(key);
    this.recordsWritten += moved.length;
    this.broadcast(moved);
  }

  /** Writes `changes` in one transaction, after every change made before them. */
  private write(changes: Change[]): void {
    if (this.loadingPromise && !this.db) {
      this.early.push(changes);
      return;
    }
    const db = this.db;
    if (!db) return;
    // Ids whose last write failed go again, as their current copy.
    const ids = new Set(changes.map(changeId));
    const again: Change[] = [];
    for (const id of this.unsaved) {
      const action = this.actions.get(id);
      if (!ids.has(id) && action) again.push({ kind: "put", action });
    }
    const all = again.length > 0 ? [...changes, ...again] : changes;
    if (all.length === 0) return;
    const done = this.transact(db, all).then(
      (rebased) => {
        for (const change of all) this.unsaved.delete(changeId(change));
        if (this.unsaved.size === 0) this.dropNotice("write-failed");
        // The stored copy replaces this tab's, unless this tab changed the action again since.
        let changed = false;
        for (const { stored, wrote } of rebased) {
          if (this.actions.get(stored.id) !== wrote) continue;
          this.actions.set(stored.id, stored);
          changed = true;
        }
        if (changed) this.changed();
        this.broadcast(all.map(changeId));
      },
      (cause: unknown) => {
        for (const change of all) this.unsaved.add(changeId(change));
        this.lastWriteError = new StoreWriteError(`IndexedDB refused the write: ${errorMessage(cause)}`, { cause });
        this.addNotice({
          code: "write-failed",
          message: `Your latest actions could not be saved (${errorMessage(cause)}): they are shown, not sent, and lost on a reload until saving works again.`,
        });
      },
    );
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
  }

  /** One read-write transaction: each change applied to the stored record's newest copy.
   * Returns the records stored that differ from what this tab wrote (another tab's newer copy,
   * kept or patched), each with this tab's copy. */
  private async transact(db: ActionsDb, changes: readonly Change[]): Promise<{ stored: Action; wrote: Action }[]> {
    this.transactions++;
    const tx = db.transaction("actions", "readwrite");
    const rebased: { stored: Action; wrote: Action }[] = [];
    const writes = changes.map(async (change) => {
      const stored = await tx.store.get(changeId(change));
      let next: Action;
      if (change.kind === "put") {
        if (stored && stored.updatedAt > change.action.updatedAt) {
          rebased.push({ stored, wrote: change.action });
          return;
        }
        next = change.action;
      } else if (!stored || stored.updatedAt <= change.base) {
        next = change.result;
      } else {
        // Another tab wrote this action after the copy this tab patched: patch its copy.
        next = change.patches.reduce<Action>((current, patch) => applyPatch(current, patch, change.now), stored);
        rebased.push({ stored: next, wrote: change.result });
      }
      this.recordsWritten++;
      await tx.store.put(next);
    });
    await Promise.all([...writes, tx.done]);
    return rebased;
  }

  /** Tells the other tabs which actions were written. */
  private broadcast(ids: string[]): void {
    if (ids.length > 0 && !this.closed) this.channel?.postMessage({ ids } satisfies ChangeMessage);
  }

  private addNotice(notice: StoreNotice): void {
    this.noticeList = [...this.noticeList.filter((n) => n.code !== notice.code), notice];
    for (const listener of this.listeners) listener();
  }

  private dropNotice(code: StoreNotice["code"]): void {
    if (!this.noticeList.some((n) => n.code === code)) return;
    this.noticeList = this.noticeList.filter((n) => n.code !== code);
    for (const listener of this.listeners) listener();
  }

  /** A new snapshot, in creation order, and the listeners told. `patched`: only these actions
   * changed, none of them added or moved (same creation time), so each takes its old place and
   * the 10,000 others are not sorted again. */
  private changed(patched?: ReadonlyMap<string, Action>): void {
    this.snapshot = (patched && this.patchedInPlace(patched)) ?? this.sorted();
    for (const listener of this.listeners) listener();
  }

  private sorted(): Action[] {
    const snapshot = [...this.actions.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    this.snapshotIndex = new Map(snapshot.map((action, i) => [action.id, i]));
    return snapshot;
  }

  private patchedInPlace(patched: ReadonlyMap<string, Action>): Action[] | undefined {
    const next = this.snapshot.slice();
    for (const [id, action] of patched) {
      const i = this.snapshotIndex.get(id);
      if (i === undefined || next[i]?.id !== id || next[i]!.createdAt !== action.createdAt) return undefined;
      next[i] = action;
    }
    return next;
  }

  /** Where each action of `snapshot` is, as of the last full sort. */
  private snapshotIndex = new Map<string, number>();
}
