/**
 * The app's configuration, from VITE_* variables that `npm run dev` (or a deployment) sets.
 * Nothing is pasted in: a missing or malformed value is reported on screen with its fix.
 */
import { type Address, getAddress, isAddress } from "viem";
import { JengaError } from "../../common/errors";

export type AppConfig = {
  /** The indexer's origin: GraphQL at /graphql, live SQL at /sql. */
  indexerUrl: string;
  rpcUrl: string;
  chainId: number;
  chamaAddress: Address;
  /** A pending transaction fails as "timed out" after this long (VITE_TX_TIMEOUT_MS, default 10 min). */
  txTimeoutMs: number;
  /** A block explorer's origin (VITE_EXPLORER_URL, optional): a transaction is linked at
   * `${explorerUrl}/tx/${hash}`. */
  explorerUrl?: string;
};

export const DEFAULT_TX_TIMEOUT_MS = 10 * 60 * 1000;

export class AppConfigError extends JengaError {
  override name = "AppConfigError";
}

export function readConfig(env: Record<string, string | undefined>): AppConfig {
  const missing = ["VITE_INDEXER_URL", "VITE_RPC_URL", "VITE_CHAIN_ID", "VITE_CHAMA_ADDRESS"].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new AppConfigError(
      `Missing ${missing.join(", ")}. Start the app with \`npm run dev\`, which sets them, or set them for \`vite\` yourself.`,
    );
  }
  const chainId = Number(env.VITE_CHAIN_ID);
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new AppConfigError(`VITE_CHAIN_ID must be a chain id, got "${env.VITE_CHAIN_ID}".`);
  const address = env.VITE_CHAMA_ADDRESS!;
  if (!isAddress(address, { strict: false })) throw new AppConfigError(`VITE_CHAMA_ADDRESS is not an address: "${address}".`);
  for (const name of ["VITE_INDEXER_URL", "VITE_RPC_URL"]) {
    try {
      new URL(env[name]!);
    } catch {
      throw new AppConfigError(`${name} is not a URL: "${env[name]}".`);
    }
  }
  let txTimeoutMs = DEFAULT_TX_TIMEOUT_MS;
  if (env.VITE_TX_TIMEOUT_MS) {
    txTimeoutMs = Number(env.VITE_TX_TIMEOUT_MS);
    if (!/^\d+$/.test(env.VITE_TX_TIMEOUT_MS) || txTimeoutMs < 1_000) {
      throw new AppConfigError(`VITE_TX_TIMEOUT_MS must be a whole number of milliseconds, at least 1000, got "${env.VITE_TX_TIMEOUT_MS}".`);
    }
  }
  let explorerUrl: string | undefined;
  if (env.VITE_EXPLORER_URL) {
    let url: URL | undefined;
    try {
      url = new URL(env.VITE_EXPLORER_URL);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
      throw new AppConfigError(`VITE_EXPLORER_URL must be an http(s) URL such as https://etherscan.io, got "${env.VITE_EXPLORER_URL}".`);
    }
    explorerUrl = env.VITE_EXPLORER_URL.replace(/\/+$/, "");
  }
  return {
    txTimeoutMs,
    ...(explorerUrl ? { explorerUrl } : {}),
    indexerUrl: env.VITE_INDEXER_URL!.replace(/\/$/, ""),
    rpcUrl: env.VITE_RPC_URL!,
    chainId,
    chamaAddress: getAddress(address),
  };
}
