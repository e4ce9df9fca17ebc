/**
 * The pending-action store's contract (`PendingActionStore`), shared by its two implementations:
 * `IdbActionStore` (idbStore.ts), what the browser uses, one IndexedDB record per action; and
 * `ActionStore` here, a Map of actions persisted whole to a key-value storage with an age limit
 * (the engine's tests and the benchmarks). The browser's earlier store was `ActionStore` on
 * localStorage; its key is moved into IndexedDB once (its text format is `serializeActions`).
 */
import { JengaError } from "../../../common/errors";
import type { Action } from "./types";

/** A change to the actions could not be written: it is kept in memory (shown, not durable), and
 * nothing is sent for an action until it is. */
export class StoreWriteError extends JengaError {
  override name = "StoreWriteError";
}

/** Something the person must know about where their actions are kept. */
export type StoreNotice = {
  /** `memory-only`: nothing is saved, actions do not survive a reload; `legacy-unreadable`: the
   * earlier store's data could not be read and was left in place; `write-failed`: a change
   * could not be saved (it is retried with the next one). */
  code: "memory-only" | "legacy-unreadable" | "write-failed";
  message: string;
};

/**
 * What the engine and the UI need of the store. Reads are synchronous, from an in-memory working
 * copy; where saving is asynchronous, `flush()` says when every change made so far is durable.
 */
export type PendingActionStore = {
  get: (id: string) => Action | undefined;
  /** All actions, oldest first. The same array until something changes (for React). */
  list: () => Action[];
  /** Inserts a new action unless one carrying the same `intentId` is known; returns the one kept. */
  add: (action: Action) => Action;
  /** Inserts or replaces an action. */
  put: (action: Action) => void;
  /** Applies a patch to one action, stamps updatedAt and returns the new action. */
  update: (id: string, patch: Partial<Action>) => Action;
  /** Applies patches to several actions as one change (one write, one notification). */
  updateMany: (patches: readonly { id: string; patch: Partial<Action> }[]) => Action[];
  subscribe: (listener: () => void) => () => void;
  /** Brings in what other tabs wrote where that can be read synchronously (localStorage); a store
   * whose tabs tell each other of changes (IndexedDB) is current already, and applies every
   * write to the stored record's newest copy. */
  reload: () => void;
  /** Reads these actions again from storage (another tab may have changed them, even a moment
   * ago), keeping the newer copy of each. */
  reread: (ids: readonly string[]) => Promise<void>;
  /** Resolves once every change made so far is durable; rejects with StoreWriteError when one
   * could not be written. */
  flush: () => Promise<void>;
  /** Until the saved actions are loaded, the promise of it; then undefined. */
  loading: () => Promise<void> | undefined;
  /** What the person must know (the same array until it changes; `subscribe` says when). */
  notices: () => readonly StoreNotice[];
  /** Calls `listener` after another tab's change has been read in. */
  subscribeExternal?: (listener: () => void) => () => void;
};

/** The subset of the Web Storage API the store needs. */
export type KeyValueStorage = {
  getItem: (key: string) => string | null;
  setItem: (key: string, value: string) => void;
};

export type ActionStoreOptions = {
  storage: KeyValueStorage;
  key?: string;
  /** Actions older than this are forgotten on load, except ones still pending on chain. */
  maxAgeMs?: number;
  now: () => number;
};

export const DEFAULT_STORAGE_KEY = "jenga.actions.v1";
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

const BIGINT_TAG = "$bigint:";

/** JSON with bigints kept exact as tagged decimal strings. */
export function serializeActions(actions: Action[]): string {
  return JSON.stringify(actions, (_key, value: unknown) =>
    typeof value === "bigint" ? `${BIGINT_TAG}${value.toString()}` : value,
  );
}

export function deserializeActions(text: string): Action[] {
  const parsed: unknown = JSON.parse(text, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(BIGINT_TAG) ? BigInt(value.slice(BIGINT_TAG.length)) : value,
  );
  if (!Array.isArray(parsed)) throw new Error("stored actions are not a list");
  return parsed as Action[];
}

export class ActionStore implements PendingActionStore {
  readonly key: string;
  private readonly storage: KeyValueStorage;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private actions = new Map<string, Action>();
  private listeners = new Set<() => void>();
  private snapshot: Action[] = [];
  private readonly noticeList: readonly StoreNotice[] = [];

  constructor(options: ActionStoreOptions) {
    this.storage = options.storage;
    this.key = options.key ?? DEFAULT_STORAGE_KEY;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.now = options.now;
    this.reload();
  }

  /** Re-reads storage (another tab wrote it), keeping the newer copy of each action. */
  reload(): void {
    this.actions = this.merged();
    this.changed();
  }

  /** Storage's actions merged with this store's, the newer copy of each winning, and those past
   * the age limit forgotten. Every write starts from it, so a tab whose copy is behind (its
   * `storage` event not handled yet) never writes back over another tab's newer change. */
  private merged(): Map<string, Action> {
    const next = new Map<string, Action>();
    for (const action of this.read()) {
      const mine = this.actions.get(action.id);
      next.set(action.id, mine && mine.updatedAt > action.updatedAt ? mine : action);
    }
    const cutoff = this.now() - this.maxAgeMs;
    for (const [id, action] of next) {
      if (action.createdAt < cutoff && action.status !== "pending") next.delete(id);
    }
    return next;
  }

  private read(): Action[] {
    const text = this.storage.getItem(this.key);
    if (text === null) return [];
    try {
      return deserializeActions(text);
    } catch (cause) {
      throw new Error(`The saved actions under "${this.key}" are unreadable; clear that key to start afresh.`, { cause });
    }
  }

  get(id: string): Action | undefined {
    return this.actions.get(id);
  }

  /** All actions, oldest first. The same array until something changes (for React). */
  list(): Action[] {
    return this.snapshot;
  }

  /**
   * Inserts a new action unless one carrying the same `intentId` exists, in this store or in
   * storage (another tab's, re-read first); returns the action that is kept, so a second submit
   * of one intent changes nothing.
   */
  add(action: Action): Action {
    if (action.intentId !== undefined) {
      this.reload();
      for (const existing of this.actions.values()) {
        if (existing.intentId === action.intentId) return existing;
      }
    }
    this.put(action);
    return action;
  }

  /** Inserts or replaces an action and persists. */
  put(action: Action): void {
    const next = this.merged();
    next.set(action.id, action);
    this.actions = next;
    this.persist();
    this.changed();
  }

  /** Applies a patch to one action, stamps updatedAt, persists, and returns the new action. */
  update(id: string, patch: Partial<Action>): Action {
    return this.updateMany([{ id, patch }])[0]!;
  }

  /**
   * Applies patches to several actions as one change: each is stamped as `update` stamps it,
   * then storage is written once (one `storage` event for the other tabs), the list sorted once
   * and the subscribers told once. Patches apply in order, so two for one id both count, and
   * to the newest copy of each action (another tab's write is read first).
   * Returns the new actions in patch order; an unknown id throws before anything changes.
   */
  updateMany(patches: readonly { id: string; patch: Partial<Action> }[]): Action[] {
    if (patches.length === 0) return [];
    const now = this.now();
    const base = this.merged();
    const staged = new Map<string, Action>();
    const out = patches.map(({ id, patch }) => {
      const current = staged.get(id) ?? base.get(id);
      if (!current) throw new Error(`unknown action ${id}`);
      const next: Action = { ...current, ...patch, updatedAt: Math.max(now, current.updatedAt + 1) };
      staged.set(id, next);
      return next;
    });
    for (const [id, action] of staged) base.set(id, action);
    this.actions = base;
    this.persist();
    this.changed();
    return out;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Storage is read synchronously: a reload reads every action. */
  reread(_ids: readonly string[]): Promise<void> {
    this.reload();
    return Promise.resolve();
  }

  /** Every write is made before the call that makes it returns. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  loading(): undefined {
    return undefined;
  }

  notices(): readonly StoreNotice[] {
    return this.noticeList;
  }

  private persist(): void {
    this.storage.setItem(this.key, serializeActions([...this.actions.values()]));
  }

  private changed(): void {
    this.snapshot = [...this.actions.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    for (const listener of this.listeners) listener();
  }
}

/** An in-memory KeyValueStorage (tests and benchmarks). */
export function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
  };
}
