/** The injected wallet in the header (connect, or which wallet signs) and, while it is on
 * another chain than the app's, a prompt under the header to switch it. */
import type { Chain } from "viem";
import type { InjectedWalletState } from "../hooks/useInjectedWallet";

/** The header's part: a Connect button until the wallet has given an account. */
export function InjectedWalletStatus({ injected }: { injected: InjectedWalletState }) {
  // On the wrong chain the prompt under the header says what failed.
  const error = injected.error && !injected.wrongChain ? <WalletError message={injected.error} /> : null;
  if (injected.wallet) {
    return (
      <>
        <span data-testid="wallet-label">Browser wallet</span>
        {error}
      </>
    );
  }
  if (injected.wrongChain) {
    return (
      <span className="warn" data-testid="wallet-label">
        Browser wallet · wrong chain
      </span>
    );
  }
  return (
    <>
      <button type="button" onClick={injected.connect} disabled={injected.busy} data-testid="connect-wallet">
        {injected.busy ? "Connecting…" : "Connect wallet"}
      </button>
      {error}
    </>
  );
}

function WalletError({ message }: { message: string }) {
  return (
    <span className="error" role="alert" data-testid="wallet-error">
      {message}
    </span>
  );
}

/** Shown while the wallet is on another chain: nothing is sent until it switches. */
export function ChainSwitchPrompt({ injected, chain }: { injected: InjectedWalletState; chain: Chain }) {
  if (!injected.wrongChain) return null;
  return (
    <div className="chain-prompt" role="alert" data-testid="switch-chain">
      <p>
        Your wallet is on chain {injected.chainId}. Jenga Index runs on{" "}
        <strong data-testid="expected-chain">
          {chain.name} (chain {chain.id})
        </strong>
        : nothing will be sent until your wallet switches to it.
      </p>
      <button type="button" onClick={injected.switchChain} disabled={injected.busy} data-testid="switch-chain-button">
        {injected.busy ? "Switching…" : `Switch to ${chain.name}`}
      </button>
      {injected.error ? <WalletError message={injected.error} /> : null}
    </div>
  );
}
