/**
 * The wallet and the sync engine, in their own chunk: viem's public and wallet clients, the dev
 * or injected wallet, the engine that sends and reconciles actions, and its indexer port. The
 * first screen renders without them (the list, the user's stored actions, the status panel);
 * App loads this once it has painted and hands what it makes to the rest of the app.
 */
import { useEffect, useMemo } from "react";
import { type Chain, createPublicClient, http } from "viem";
import type { AppContextValue } from "../appContext";
import { type InjectedWalletState, useInjectedWallet } from "../hooks/useInjectedWallet";
import type { LedgerClient } from "../ledger";
import { browserLock, connectBrowserEvents } from "../sync/browser";
import { SyncEngine } from "../sync/engine";
import { ponderIndexer } from "../sync/ponderIndexer";
import { viemChain } from "../sync/viemChain";
import { type Wallet, devWallet } from "../wallet";

type EngineParameters = ConstructorParameters<typeof SyncEngine>[0];

export type WalletRuntimeProps = {
  config: AppContextValue["config"];
  chain: Chain;
  store: EngineParameters["store"];
  ledger: LedgerClient;
  hasInjected: boolean;
  devAllowed: boolean;
  devIndex: number;
  /** Each is called when what it names changes (React state setters suit them). */
  onInjected: (injected: InjectedWalletState) => void;
  onWallet: (wallet: Wallet | undefined) => void;
  onEngine: (engine: SyncEngine) => void;
};

export function WalletRuntime(props: WalletRuntimeProps) {
  const { config, chain, store, ledger, hasInjected, devAllowed, devIndex, onInjected, onWallet, onEngine } = props;
  const publicClient = useMemo(
    () => createPublicClient({ chain, transport: http(config.rpcUrl, { retryCount: 1, timeout: 10_000 }), cacheTime: 0 }),
    [chain, config.rpcUrl],
  );
  const indexer = useMemo(() => ponderIndexer({ url: config.indexerUrl, chainId: config.chainId }), [config]);
  const followed = useInjectedWallet({ chain, enabled: hasInjected });
  // The hook answers a new object each render: hand on a new one only when a field changed.
  const { provider, address, chainId, wallet: injectedWallet, wrongChain, busy, error, connect, switchChain } = followed;
  const injected = useMemo(
    () => ({ provider, address, chainId, wallet: injectedWallet, wrongChain, busy, error, connect, switchChain }),
    [provider, address, chainId, injectedWallet, wrongChain, busy, error, connect, switchChain],
  );
  const wallet = useMemo(
    () => (devAllowed ? devWallet({ chain, rpcUrl: config.rpcUrl, index: devIndex }) : injectedWallet),
    [devAllowed, chain, config.rpcUrl, devIndex, injectedWallet],
  );
  useEffect(() => onInjected(injected), [onInjected, injected]);
  useEffect(() => onWallet(wallet), [onWallet, wallet]);

  useEffect(() => {
    if (!wallet) return;
    const engine = new SyncEngine({
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
    const disconnect = connectBrowserEvents(engine);
    onEngine(engine);
    void engine.start();
    return () => {
      disconnect();
      engine.stop();
    };
  }, [onEngine, wallet, store, publicClient, indexer, ledger, config.chamaAddress, config.txTimeoutMs]);
  return null;
}
