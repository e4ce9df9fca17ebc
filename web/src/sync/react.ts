/** React bindings for the framework-free sync core. */
import { createContext, useContext, useMemo, useSyncExternalStore } from "react";
import type { EngineHealth, SyncEngine } from "./engine";
import { type ActionOwner, ownActions } from "./rules";
import type { PendingActionStore, StoreNotice } from "./store";
import type { Action } from "./types";

/** `owner`: the connected wallet's account on the app's chain (undefined without a wallet). */
export type SyncContextValue = { store: PendingActionStore; engine: SyncEngine | undefined; owner: ActionOwner | undefined };
export const SyncContext = createContext<SyncContextValue | undefined>(undefined);

export function useSync(): SyncContextValue {
  const value = useContext(SyncContext);
  if (!value) throw new Error("useSync needs a <SyncContext.Provider>");
  return value;
}

const NONE: Action[] = [];

/**
 * The current account's actions on the app's chain, oldest first, dismissed ones left out; none
 * without a wallet. The store is shared by every account and tab of the browser: every list of
 * actions reads them here, so another dev account's rows never show under this one.
 */
export function useActions(): Action[] {
  const { store, owner } = useSync();
  const all = useSyncExternalStore(
    (listener) => store.subscribe(listener),
    () => store.list(),
  );
  const chainId = owner?.chainId;
  const account = owner?.account;
  return useMemo(
    () => (chainId === undefined || account === undefined ? NONE : ownActions(all, { chainId, account })),
    [all, chainId, account],
  );
}

/** What the person must know about where their actions are kept (in memory only, an earlier
 * store unreadable, a write refused). */
export function useStoreNotices(): readonly StoreNotice[] {
  const { store } = useSync();
  return useSyncExternalStore(
    (listener) => store.subscribe(listener),
    () => store.notices(),
  );
}

const IDLE: EngineHealth = {
  drafts: 0,
  pending: 0,
  failed: 0,
  discrepancies: 0,
  live: false,
  connected: false,
};

export function useHealth(): EngineHealth {
  const { engine } = useSync();
  return useSyncExternalStore(
    (listener) => engine?.subscribeHealth(listener) ?? (() => undefined),
    () => engine?.health() ?? IDLE,
  );
}
