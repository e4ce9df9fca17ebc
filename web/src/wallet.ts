/**
 * Wallets: an injected EIP-1193 provider (a browser extension) when there is one; otherwise,
 * on the local chain 31337 only, a dev wallet holding anvil's well-known test accounts, which
 * signs in the page. It is labelled as such everywhere it appears.
 */
import {
  type Account,
  type Address,
  type Chain,
  type EIP1193Provider,
  type Transport,
  type WalletClient,
  createWalletClient,
  custom,
  http,
} from "viem";
import { LOCAL_CHAIN_ID, anvilAccount } from "../../common/chain";

export const DEV_ACCOUNT_COUNT = 10;

export type Wallet = {
  kind: "injected" | "dev";
  label: string;
  address: Address;
  client: WalletClient<Transport, Chain, Account>;
};

export function injectedProvider(): EIP1193Provider | undefined {
  return (globalThis as { ethereum?: EIP1193Provider }).ethereum;
}

export function devAddresses(): Address[] {
  return Array.from({ length: DEV_ACCOUNT_COUNT }, (_, addressIndex) => anvilAccount(addressIndex).address);
}

/** The dev wallet for anvil account `index`. Refuses any chain but 31337. */
export function devWallet(params: { chain: Chain; rpcUrl: string; index: number }): Wallet {
  if (params.chain.id !== LOCAL_CHAIN_ID) {
    throw new Error(`The dev wallet only works on the local chain ${LOCAL_CHAIN_ID}; connect a browser wallet for chain ${params.chain.id}.`);
  }
  const account = anvilAccount(params.index);
  return {
    kind: "dev",
    label: `Dev wallet · anvil account #${params.index}`,
    address: account.address,
    client: createWalletClient({ chain: params.chain, transport: http(params.rpcUrl), account }),
  };
}

/** Asks the injected wallet for an account and checks it is on the configured chain. */
export async function connectInjected(params: { chain: Chain }): Promise<Wallet> {
  const provider = injectedProvider();
  if (!provider) throw new Error("No browser wallet found.");
  const [address] = (await provider.request({ method: "eth_requestAccounts" })) as Address[];
  if (!address) throw new Error("The wallet returned no account.");
  const chainIdHex = (await provider.request({ method: "eth_chainId" })) as string;
  if (Number(BigInt(chainIdHex)) !== params.chain.id) {
    throw new Error(`The wallet is on chain ${Number(BigInt(chainIdHex))}; switch it to chain ${params.chain.id}.`);
  }
  return {
    kind: "injected",
    label: "Browser wallet",
    address,
    client: createWalletClient({ chain: params.chain, transport: custom(provider), account: address }),
  };
}
