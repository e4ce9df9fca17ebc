/** React bindings for the framework-free sync core. */
import { createContext, useContext, useSyncExternalStore } from "react";
import type { EngineHealth, SyncEngine } from "./engine";
import type { ActionStore } from "./store";
import type { Action } from "./types";

export type SyncContextValue = { store: ActionStore; engine: SyncEngine | undefined };
export const SyncContext = createContext<SyncContextValue | undefined>(undefined);

export function useSync(): SyncContextValue {
  const value = useContext(SyncContext);
  if (!value) throw new Error("useSync needs a <SyncContext.Provider>");
  return value;
}

export function useActions(): Action[] {
  const { store } = useSync();
  return useSyncExternalStore(
    (listener) => store.subscribe(listener),
    () => store.list(),
  );
}

const IDLE: EngineHealth = {
  drafts: 0,
  pending: 0,
  failed: 0,
  discrepancies: 0,
  live: false,
};

export function useHealth(): EngineHealth {
  const { engine } = useSync();
  return useSyncExternalStore(
    (listener) => engine?.subscribeHealth(listener) ?? (() => undefined),
    () => engine?.health() ?? IDLE,
  );
}
