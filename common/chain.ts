/**
 * Chain facts shared by the server, the scripts, the tests and the web app: the local chain,
 * the sat unit, the contract's name limit, anvil's dev accounts and a viem chain object for
 * any chain id.
 */
import { type Chain, defineChain } from "viem";
import { mnemonicToAccount } from "viem/accounts";

/** anvil's chain id, the one chain the dev wallet, the seed script and the tests run on. */
export const LOCAL_CHAIN_ID = 31337;

/** 1 sat = 10^10 wei (BTC-native EVM chains: an 18-decimal coin, 8-decimal sats). */
export const SAT = 10n ** 10n;

/** Blocks after which Ponder treats a block as final on chains it has no entry for, the local
 * chain included: a reorg deeper than this is unrecoverable for a running indexer. */
export const PONDER_FINALITY_BLOCKS = 30;

/** The longest chama name the contract accepts, in UTF-8 bytes: Chama.sol's `MAX_NAME_BYTES`,
 * here for the web form and the scripts (test/contract.test.ts checks that the two agree). */
export const MAX_NAME_BYTES = 64;

/** A chama name's length as the contract counts it: UTF-8 bytes, not characters. */
export function nameBytes(name: string): number {
  return new TextEncoder().encode(name).length;
}

/** anvil's public development mnemonic: its accounts are funded with 10,000 ETH each and
 * their keys are known to everyone. Dev chains only. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** anvil's development account `index` (index 0 deploys and administers). */
export function anvilAccount(index: number) {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

/** A viem chain object for any chain id and RPC URL. */
export function chainFor(params: { chainId: number; rpcUrl: string }): Chain {
  return defineChain({
    id: params.chainId,
    name: params.chainId === LOCAL_CHAIN_ID ? "Anvil (local)" : `Chain ${params.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [params.rpcUrl] } },
  });
}
