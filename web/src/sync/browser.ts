/**
 * Browser wiring for the sync engine: the action store in IndexedDB (other tabs' changes by
 * BroadcastChannel, the earlier localStorage store moved in once), Web Locks so two tabs never
 * send the same draft, and the `online` event as a cue to retry.
 */
import type { SyncEngine } from "./engine";
import { IdbActionStore } from "./idbStore";
import { memoryLock } from "./lock";
import type { LockFn } from "./ports";
import type { LegacyStorage } from "./idbStore";

/** Web Locks when the browser has them (all current ones do), else an in-page lock. */
export function browserLock(): LockFn {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return memoryLock();
  return <T>(name: string, fn: () => Promise<T>) => locks.request(name, fn) as Promise<T>;
}

/** localStorage, where the page may use it (the earlier store's key is read from it once). */
function legacyStorage(): LegacyStorage | undefined {
  try {
    const storage = globalThis.localStorage;
    storage.getItem("jenga.probe");
    return storage;
  } catch {
    return undefined;
  }
}

/** IndexedDB, where the page may use it; undefined (the in-memory fallback) where reading it
 * throws (some private modes). */
function browserIndexedDB(): IDBFactory | undefined {
  try {
    return globalThis.indexedDB ?? undefined;
  } catch {
    return undefined;
  }
}

let shared: IdbActionStore | undefined;

/** The page's one action store (React may build its memos twice; the store is built once). */
export function browserActionStore(): IdbActionStore {
  if (!shared) {
    const storage = legacyStorage();
    shared = new IdbActionStore({
      now: Date.now,
      indexedDB: browserIndexedDB(),
      lock: browserLock(),
      ...(storage ? { legacy: { storage } } : {}),
    });
  }
  return shared;
}

/** Keeps the engine in step with other tabs and the network; returns the cleanup. */
export function connectBrowserEvents(engine: SyncEngine): () => void {
  const offTabs = engine.store.subscribeExternal?.(() => void engine.nudge());
  const onOnline = () => void engine.nudge();
  window.addEventListener("online", onOnline);
  return () => {
    offTabs?.();
    window.removeEventListener("online", onOnline);
  };
}
