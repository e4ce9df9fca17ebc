/** The injected (EIP-1193) wallet, followed: its account and chain as it reports them, read
 * without a prompt at start and then from its `accountsChanged` and `chainChanged` events, and
 * the two requests a person makes of it (connect, switch chain). */
import { useCallback, useEffect, useMemo, useState } from "react";
import type { Address, Chain, EIP1193Provider } from "viem";
import { errorMessage } from "../../../common/errors";
import { type Wallet, firstAccount, injectedProvider, injectedWallet, parseChainId, readInjected, switchInjectedChain } from "../wallet";

export type InjectedWalletState = {
  /** The page's injected provider; undefined when there is none (or it is not used). */
  provider: EIP1193Provider | undefined;
  /** The wallet's account, once this site may see it. */
  address: Address | undefined;
  /** The wallet's chain, once read. */
  chainId: number | undefined;
  /** Usable for sending: an account on the app's chain. Undefined otherwise, so nothing can be
   * sent from the wrong chain or without an account. */
  wallet: Wallet | undefined;
  /** Connected, but on another chain than the app's. */
  wrongChain: boolean;
  /** A connect or switch request is open in the wallet. */
  busy: boolean;
  /** Why the last request failed (a rejection says so); cleared by the next that succeeds. */
  error: string | undefined;
  connect: () => void;
  switchChain: () => void;
};

type Facts = { address: Address | undefined; chainId: number | undefined };

export function useInjectedWallet(params: { chain: Chain; enabled: boolean }): InjectedWalletState {
  const { chain, enabled } = params;
  const provider = useMemo(() => (enabled ? injectedProvider() : undefined), [enabled]);
  const [facts, setFacts] = useState<Facts>({ address: undefined, chainId: undefined });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (!provider) return;
    let live = true;
    // An event is newer than the first read: once one came, that read's answer is stale.
    let heard = false;
    const onAccounts = (accounts: readonly Address[]) => {
      heard = true;
      setFacts((f) => ({ ...f, address: firstAccount(accounts) }));
    };
    const onChain = (chainId: string) => {
      heard = true;
      setFacts((f) => ({ ...f, chainId: parseChainId(chainId) }));
    };
    provider.on("accountsChanged", onAccounts);
    provider.on("chainChanged", onChain);
    // A site allowed before gets its account without a prompt.
    readInjected({ provider, prompt: false }).then(
      (read) => {
        if (live && !heard) setFacts(read);
      },
      (e: unknown) => {
        if (live) setError(errorMessage(e));
      },
    );
    return () => {
      live = false;
      provider.removeListener("accountsChanged", onAccounts);
      provider.removeListener("chainChanged", onChain);
    };
  }, [provider]);

  /** Runs one request of the person's, showing its failure. */
  const request = useCallback((run: (p: EIP1193Provider) => Promise<Partial<Facts>>) => {
    if (!provider) return;
    setBusy(true);
    run(provider)
      .then(
        (read) => {
          setFacts((f) => ({ ...f, ...read }));
          setError(undefined);
        },
        (e: unknown) => setError(errorMessage(e)),
      )
      .finally(() => setBusy(false));
  }, [provider]);

  const connect = useCallback(() => request((p) => readInjected({ provider: p, prompt: true })), [request]);
  const switchChain = useCallback(
    () =>
      request(async (p) => {
        await switchInjectedChain({ provider: p, chain });
        // The wallet also says so with `chainChanged`; its answer now does not depend on that.
        return { chainId: (await readInjected({ provider: p, prompt: false })).chainId };
      }),
    [request, chain],
  );

  const wallet = useMemo(
    () => (provider && facts.address && facts.chainId === chain.id ? injectedWallet({ provider, chain, address: facts.address }) : undefined),
    [provider, chain, facts.address, facts.chainId],
  );
  const wrongChain = facts.address !== undefined && facts.chainId !== undefined && facts.chainId !== chain.id;
  return { provider, address: facts.address, chainId: facts.chainId, wallet, wrongChain, busy, error, connect, switchChain };
}
