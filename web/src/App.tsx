/** The shell: header (unit switch, wallet), offline banner, routes, the sync engine's lifetime,
 * health panel, and the toasts that follow each action. */
import { lazy, useCallback, useEffect, useMemo, useState } from "react";
import { AppContext, type AppContextValue } from "./appContext";
import { ChamaList } from "./components/ChamaList";
import { LazyBoundary } from "./components/LazyBoundary";
import type { WalletRuntimeProps } from "./components/WalletRuntime";
import { useBrowserOnline } from "./hooks/useBrowserOnline";
import { SyncHealthPanel } from "./components/SyncHealthPanel";
import { Toasts } from "./components/Toasts";
import type { AppConfig } from "./config";
import { accountHref, short } from "./format";
import { browserActionStore } from "./sync/browser";
import type { SyncEngine } from "./sync/engine";
import { SyncContext } from "./sync/react";
import type { ActionParams } from "./sync/types";
import { UNITS, type Unit } from "./units";
import { LOCAL_CHAIN_ID, chainFor } from "../../common/chain";
import { DEV_ACCOUNT_COUNT, injectedProvider } from "./walletFacts";
import type { Wallet } from "./wallet";
import type { InjectedWalletState } from "./hooks/useInjectedWallet";
import { ChainSwitchPrompt, InjectedWalletStatus } from "./components/InjectedWallet";
import { LedgerClient } from "./ledger";
import { StoreNotices } from "./StoreNotices";
import { Announcer } from "./components/Announcer";
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

// The list is the first screen; every other page, and the wallet with the sync engine, is its
// own chunk, loaded when first needed (see the README's "Bundle").
const ChamaDetail = lazy(() => import("./components/ChamaDetail").then((m) => ({ default: m.ChamaDetail })));
const AccountPage = lazy(() => import("./components/AccountPage").then((m) => ({ default: m.AccountPage })));
const OperatorPage = lazy(() => import("./components/OperatorPage").then((m) => ({ default: m.OperatorPage })));
const WalletRuntime = lazy(() => import("./components/WalletRuntime").then((m) => ({ default: m.WalletRuntime })));

/** The injected wallet as the header shows it until the wallet code has loaded. */
const INJECTED_LOADING: InjectedWalletState = {
  provider: undefined,
  address: undefined,
  chainId: undefined,
  wallet: undefined,
  wrongChain: false,
  busy: true,
  error: undefined,
  connect: () => undefined,
  switchChain: () => undefined,
};

function Route({ hash }: { hash: string }) {
  const chama = /^#\/chama\/(\d+)$/.exec(hash);
  const account = /^#\/account\/(0x[0-9a-fA-F]{40})$/.exec(hash);
  if (!chama && !account && hash !== "#/operator") return <ChamaList />;
  return (
    <LazyBoundary what="this page">
      {chama ? <ChamaDetail id={BigInt(chama[1]!)} /> : account ? <AccountPage address={account[1]!} /> : <OperatorPage />}
    </LazyBoundary>
  );
}

/** The wallet and the sync engine, loaded once the first screen is up; a line says so meanwhile. */
function WalletLoader(props: WalletRuntimeProps & { loaded: boolean }) {
  const { loaded, ...runtime } = props;
  return (
    <LazyBoundary
      what="the wallet"
      fallback={
        <p className="muted small wallet-loading" role="status" data-testid="wallet-loading">
          Loading the wallet…
        </p>
      }
    >
      <WalletRuntime {...runtime} />
      {loaded ? null : (
        <p className="muted small wallet-loading" role="status" data-testid="wallet-loading">
          Loading the wallet…
        </p>
      )}
    </LazyBoundary>
  );
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
  const store = browserActionStore();
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
  // Set by WalletRuntime once its chunk has loaded.
  const [injected, setInjected] = useState<InjectedWalletState>(INJECTED_LOADING);
  const [walletState, setWallet] = useState<{ wallet: Wallet | undefined }>();
  const wallet = walletState?.wallet;
  const onWallet = useCallback((next: Wallet | undefined) => setWallet({ wallet: next }), []);
  const [engine, setEngine] = useState<SyncEngine>();

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
          <span className="muted small chain-info">
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
              <>
                <span className="dev-wallet" title="anvil's public test keys, signing in this page. Never use on a real chain.">
                  DEV WALLET<span className="dev-wallet-long"> (anvil test keys, local chain only)</span>
                </span>
                <label className="dev-account">
                  <span className="sr-only">Dev wallet account</span>
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
                </label>
              </>
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
        <WalletLoader
          loaded={walletState !== undefined}
          {...{ config, chain, store, ledger, hasInjected, devAllowed, devIndex }}
          onInjected={setInjected}
          onWallet={onWallet}
          onEngine={setEngine}
        />
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
        <Announcer />
      </SyncContext.Provider>
    </AppContext.Provider>
  );
}
