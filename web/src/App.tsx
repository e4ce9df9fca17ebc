/** The shell: header (unit switch, wallet), offline banner, routes, the sync engine's lifetime,
 * health panel, and the toasts that follow each action. */
import { useCallback, useEffect, useMemo, useState } from "react";
import { createPublicClient, http } from "viem";
import { AppContext, type AppContextValue } from "./appContext";
import { AccountPage } from "./components/AccountPage";
import { ChamaDetail } from "./components/ChamaDetail";
import { ChamaList } from "./components/ChamaList";
import { OperatorPage } from "./components/OperatorPage";
import { useBrowserOnline } from "./hooks/useBrowserOnline";
import { SyncHealthPanel } from "./components/SyncHealthPanel";
import { Toasts } from "./components/Toasts";
import type { AppConfig } from "./config";
import { accountHref, short } from "./format";
import { browserActionStore, browserLock, connectBrowserEvents } from "./sync/browser";
import { SyncEngine } from "./sync/engine";
import { ponderIndexer } from "./sync/ponderIndexer";
import { SyncContext } from "./sync/react";
import type { ActionParams } from "./sync/types";
import { viemChain } from "./sync/viemChain";
import { UNITS, type Unit } from "./units";
import { LOCAL_CHAIN_ID, chainFor } from "../../common/chain";
import { DEV_ACCOUNT_COUNT, devWallet, injectedProvider } from "./wallet";
import { useInjectedWallet } from "./hooks/useInjectedWallet";
import { ChainSwitchPrompt, InjectedWalletStatus } from "./components/InjectedWallet";
import { LedgerClient } from "./ledger";
import { StoreNotices } from "./StoreNotices";
import { OfflineShellNotices } from "./components/OfflineShell";

const UNIT_KEY = "jenga.unit";
const DEV_ACCOUNT_KEY = "jenga.devAccount";

function useHashRoute(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

function Route({ hash }: { hash: string }) {
  const chama = /^#\/chama\/(\d+)$/.exec(hash);
  if (chama) return <ChamaDetail id={BigInt(chama[1]!)} />;
  const account = /^#\/account\/(0x[0-9a-fA-F]{40})$/.exec(hash);
  if (account) return <AccountPage address={account[1]!} />;
  if (hash === "#/operator") return <OperatorPage />;
  return <ChamaList />;
}

/** Shown while the browser says it is offline: nothing on screen can be current then. */
function OfflineBanner() {
  const online = useBrowserOnline();
  if (online) return null;
  return (
    <div className="offline-banner" role="status" data-testid="offline-banner">
      You are offline. What you see may be out of date; actions you take are kept as drafts and sent once the
      connection returns.
    </div>
  );
}

export function App({ config }: { config: AppConfig }) {
  const chain = useMemo(() => chainFor({ chainId: config.chainId, rpcUrl: config.rpcUrl }), [config]);
  const publicClient = useMemo(
    () => createPublicClient({ chain, transport: http(config.rpcUrl, { retryCount: 1, timeout: 10_000 }), cacheTime: 0 }),
    [chain, config.rpcUrl],
  );
  const store = browserActionStore();
  const indexer = useMemo(() => ponderIndexer({ url: config.indexerUrl, chainId: config.chainId }), [config]);
  // The API's transaction ledger lives beside /sync-health and /graphql.
  const ledger = useMemo(() => new LedgerClient({ url: config.indexerUrl }), [config.indexerUrl]);
  useEffect(() => {
    ledger.start();
    return () => ledger.stop();
  }, [ledger]);
  const hash = useHashRoute();

  const [unit, setUnitState] = useState<Unit>(() => (UNITS.find((u) => u === localStorage.getItem(UNIT_KEY)) ?? "sats"));
  const setUnit = (next: Unit) => {
    localStorage.setItem(UNIT_KEY, next);
    setUnitState(next);
  };

  const hasInjected = injectedProvider() !== undefined;
  const devAllowed = !hasInjected && config.chainId === LOCAL_CHAIN_ID;
  const [devIndex, setDevIndex] = useState(() => {
    const saved = Number(localStorage.getItem(DEV_ACCOUNT_KEY) ?? "0");
    return Number.isInteger(saved) && saved >= 0 && saved < DEV_ACCOUNT_COUNT ? saved : 0;
  });
  const injected = useInjectedWallet({ chain, enabled: hasInjected });
  const wallet = useMemo(
    () => (devAllowed ? devWallet({ chain, rpcUrl: config.rpcUrl, index: devIndex }) : injected.wallet),
    [devAllowed, chain, config.rpcUrl, devIndex, injected.wallet],
  );

  const [engine, setEngine] = useState<SyncEngine>();
  useEffect(() => {
    if (!wallet) return;
    const next = new SyncEngine({
      store,
      chain: viemChain({
        publicClient,
        walletClient: wallet.client,
        address: config.chamaAddress,
        relay: { relay: (raw) => ledger.relay(raw), register: (hash) => ledger.register(hash) },
      }),
      indexer,
      lock: browserLock(),
      timeoutMs: config.txTimeoutMs,
    });
    const disconnect = connectBrowserEvents(next);
    setEngine(next);
    void next.start();
    return () => {
      disconnect();
      next.stop();
    };
  }, [wallet, store, publicClient, indexer, ledger, config.chamaAddress, config.txTimeoutMs]);

  const submit = useCallback(
    (params: ActionParams, options: { intentId?: string } = {}) => {
      if (!engine || !wallet) throw new Error("Connect a wallet first.");
      return engine.submit({ account: wallet.address, params, intentId: options.intentId });
    },
    [engine, wallet],
  );
  const retry = useCallback(
    (id: string) => {
      if (!engine) throw new Error("Connect a wallet first.");
      return engine.retry(id);
    },
    [engine],
  );
  const dismiss = useCallback(
    (id: string) => {
      if (!engine) throw new Error("Connect a wallet first.");
      engine.dismiss(id);
    },
    [engine],
  );
  const owner = useMemo(
    () => (wallet ? { chainId: config.chainId, account: wallet.address } : undefined),
    [wallet, config.chainId],
  );

  const app: AppContextValue = { config, unit, wallet, ledger, submit, retry, dismiss };

  return (
    <AppContext.Provider value={app}>
      <SyncContext.Provider value={{ store, engine, owner }}>
        <header className="top">
          <a href="#/" className="brand">
            Jenga Index
          </a>
          <span className="muted small">
            chain {config.chainId} · Chama {short(config.chamaAddress)}
          </span>
          <a href="#/operator" data-testid="operator-link">
            Operator
          </a>
          <label className="unit">
            Unit{" "}
            <select value={unit} onChange={(e) => setUnit(e.target.value as Unit)} data-testid="unit-select">
              {UNITS.map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          </label>
          <div className="wallet" data-testid="wallet">
            {devAllowed ? (
              <span className="dev-wallet" title="anvil's public test keys, signing in this page. Never use on a real chain.">
                DEV WALLET (anvil test keys, local chain only){" "}
                <select
                  value={devIndex}
                  data-testid="dev-account"
                  onChange={(e) => {
                    localStorage.setItem(DEV_ACCOUNT_KEY, e.target.value);
                    setDevIndex(Number(e.target.value));
                  }}
                >
                  {Array.from({ length: DEV_ACCOUNT_COUNT }, (_, i) => (
                    <option key={i} value={i}>
                      account #{i}
                    </option>
                  ))}
                </select>
              </span>
            ) : hasInjected ? (
              <InjectedWalletStatus injected={injected} />
            ) : (
              <span className="warn">No wallet: install a browser wallet to act (read-only for now).</span>
            )}
            {wallet ? (
              <a href={accountHref(wallet.address)} data-testid="wallet-address">
                {short(wallet.address)}
              </a>
            ) : null}
          </div>
        </header>
        <OfflineBanner />
        <OfflineShellNotices />
        <StoreNotices />
        <ChainSwitchPrompt injected={injected} chain={chain} />
        <main className="layout">
          <div className="content">
            <Route hash={hash} />
          </div>
          <SyncHealthPanel />
        </main>
        <Toasts />
      </SyncContext.Provider>
    </AppContext.Provider>
  );
}
