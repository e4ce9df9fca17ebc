/**
 * Wallets: an injected EIP-1193 provider (a browser extension) when there is one; otherwise,
 * on the local chain 31337 only, a dev wallet holding anvil's well-known test accounts, which
 * signs in the page. It is labelled as such everywhere it appears.
 *
 * The injected wallet is followed, not sampled once: its account and chain come from
 * `eth_accounts`/`eth_chainId` and then from its `accountsChanged`/`chainChanged` events, and it
 * is usable (a `Wallet`) only while it has an account and is on the configured chain.
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
  getAddress,
  http,
  isAddress,
  numberToHex,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { ANVIL_MNEMONIC, LOCAL_CHAIN_ID } from "../../common/chain";
import { JengaError } from "../../common/errors";
import { isUserRejection } from "./sync/viemChain";
import { DEV_ACCOUNT_COUNT, injectedProvider } from "./walletFacts";

export { DEV_ACCOUNT_COUNT, injectedProvider };

/** anvil's account `index`, derived here rather than by common/chain's anvilAccount: that module
 * is in the first screen's chunk, and the derivation (bip32, secp256k1) belongs in the wallet's. */
function anvilAccount(index: number) {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

export type Wallet = {
  kind: "injected" | "dev";
  label: string;
  address: Address;
  client: WalletClient<Transport, Chain, Account>;
};

/** EIP-3326's code for "the wallet does not know this chain" (then it can be added). */
const UNRECOGNIZED_CHAIN_CODE = 4902;

/** The injected wallet refused or failed a request. */
export class WalletRequestError extends JengaError {
  override name = "WalletRequestError";
  override readonly expected = true;
}

/** The person declined the request in their wallet. */
export class WalletRejectedError extends WalletRequestError {
  override name = "WalletRejectedError";
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

/** The wallet's first account from an `eth_accounts`-shaped answer, checksummed. */
export function firstAccount(accounts: unknown): Address | undefined {
  const first: unknown = Array.isArray(accounts) ? accounts[0] : undefined;
  return typeof first === "string" && isAddress(first, { strict: false }) ? getAddress(first) : undefined;
}

/** A chain id as wallets send it (hex, or a number) as a number. */
export function parseChainId(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value !== "string") return undefined;
  try {
    const id = BigInt(value);
    return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : undefined;
  } catch {
    return undefined;
  }
}

/** A provider error's message (EIP-1193 errors are plain objects with `code` and `message`). */
function providerMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}

/** One request to the injected wallet; a decline becomes WalletRejectedError saying what was declined. */
async function ask<T>(params: { what: string; request: () => Promise<T> }): Promise<T> {
  try {
    return await params.request();
  } catch (error) {
    if (isUserRejection(error)) throw new WalletRejectedError(`You rejected ${params.what} in your wallet.`, { cause: error });
    throw new WalletRequestError(`The wallet refused ${params.what}: ${providerMessage(error)}`, { cause: error });
  }
}

export type InjectedStateParameters = { provider: EIP1193Provider; /** Ask for access (a prompt) instead of reading it. */ prompt: boolean };
export type InjectedStateReturnType = { address: Address | undefined; chainId: number | undefined };

/** The wallet's account and chain: `eth_requestAccounts` with `prompt` (the wallet may ask the
 * person), else `eth_accounts` (no prompt; empty until this site was allowed). */
export async function readInjected(params: InjectedStateParameters): Promise<InjectedStateReturnType> {
  const { provider } = params;
  const accounts = await ask({
    what: "the connection",
    request: () => provider.request({ method: params.prompt ? "eth_requestAccounts" : "eth_accounts" }),
  });
  const chainId = await ask({ what: "the chain id request", request: () => provider.request({ method: "eth_chainId" }) });
  return { address: firstAccount(accounts), chainId: parseChainId(chainId) };
}

/** Asks the wallet to switch to `chain`, adding it first if the wallet does not know it. */
export async function switchInjectedChain(params: { provider: EIP1193Provider; chain: Chain }): Promise<void> {
  const { provider, chain } = params;
  const chainId = numberToHex(chain.id);
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== UNRECOGNIZED_CHAIN_CODE) {
      if (isUserRejection(error)) {
        throw new WalletRejectedError(`You rejected the switch to ${chain.name} (chain ${chain.id}) in your wallet; nothing can be sent until it is on that chain.`, { cause: error });
      }
      throw new WalletRequestError(`The wallet refused the switch to chain ${chain.id}: ${providerMessage(error)}`, { cause: error });
    }
    await ask({
      what: `adding ${chain.name} (chain ${chain.id})`,
      request: () =>
        provider.request({
          method: "wallet_addEthereumChain",
          params: [{ chainId, chainName: chain.name, nativeCurrency: chain.nativeCurrency, rpcUrls: [...chain.rpcUrls.default.http] }],
        }),
    });
  }
}

/** The injected wallet as a Wallet for `address`: it signs through the provider. Only for the
 * configured chain (viem checks the wallet's chain again before every send). */
export function injectedWallet(params: { provider: EIP1193Provider; chain: Chain; address: Address }): Wallet {
  return {
    kind: "injected",
    label: "Browser wallet",
    address: params.address,
    client: createWalletClient({ chain: params.chain, transport: custom(params.provider), account: params.address }),
  };
}
