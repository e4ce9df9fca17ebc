/**
 * Browser wiring for the sync engine: localStorage shared by tabs (the `storage` event), Web
 * Locks so two tabs never send the same draft, and the `online` event as a cue to retry.
 */
import type { SyncEngine } from "./engine";
import { memoryLock } from "./lock";
import type { LockFn } from "./ports";
import { type KeyValueStorage, memoryStorage } from "./store";

/** Web Locks when the browser has them (all current ones do), else an in-page lock. */
export function browserLock(): LockFn {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return memoryLock();
  return <T>(name: string, fn: () => Promise<T>) => locks.request(name, fn) as Promise<T>;
}

export function browserStorage(): KeyValueStorage {
  try {
    const storage = globalThis.localStorage;
    storage.getItem("jenga.probe");
    return storage;
  } catch {
    return memoryStorage();
  }
}

/** Keeps the engine in step with other tabs and the network; returns the cleanup. */
export function connectBrowserEvents(engine: SyncEngine): () => void {
  const onStorage = (event: StorageEvent) => {
    if (event.key !== engine.store.key) return;
    engine.store.reload();
    void engine.nudge();
  };
  const onOnline = () => void engine.nudge();
  window.addEventListener("storage", onStorage);
  window.addEventListener("online", onOnline);
  return () => {
    window.removeEventListener("storage", onStorage);
    window.removeEventListener("online", onOnline);
  };
}
