/** The two facts about wallets the first screen needs before the wallet code has loaded: is
 * there an injected provider, and how many dev accounts there are. The rest of the wallet
 * (wallet.ts, viem's wallet client) loads on demand, in WalletRuntime's chunk. */
import type { EIP1193Provider } from "viem";

export const DEV_ACCOUNT_COUNT = 10;

export function injectedProvider(): EIP1193Provider | undefined {
  return (globalThis as { ethereum?: EIP1193Provider }).ethereum;
}
