import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Account,
  type Hex,
  createPublicClient,
  createWalletClient,
  http,
} from "viem";
import { ChamaAbi } from "../../abis/ChamaAbi";
import { anvilAccount, chainFor } from "../../common/chain";
import { type Deployment, deploymentPath } from "../../config/env";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** anvil's first `count` development accounts (index 0 deploys and administers). */
export function devAccounts(count = 10) {
  return Array.from({ length: count }, (_, addressIndex) => anvilAccount(addressIndex));
}

/** The compiled contract, as written by `npm run contracts:build`. */
export function chamaArtifact(): { abi: typeof ChamaAbi; bytecode: Hex } {
  const json = JSON.parse(readFileSync(path.join(projectRoot, "contracts/out/Chama.json"), "utf8")) as { bytecode: Hex };
  return { abi: ChamaAbi, bytecode: json.bytecode };
}

/** Public and wallet clients for one RPC URL and account. */
export function clientsFor(params: { chainId: number; rpcUrl: string; account: Account }) {
  const chain = chainFor(params);
  const transport = http(params.rpcUrl, { timeout: 30_000 });
  return {
    // cacheTime 0: a block number read right after a receipt must be the current one.
    publicClient: createPublicClient({ chain, transport, pollingInterval: 50, cacheTime: 0 }),
    walletClient: createWalletClient({ chain, transport, account: params.account }),
  };
}

/** Deploys Chama, waits for the receipt and returns the deployment. */
export async function deployChama(params: { chainId: number; rpcUrl: string; account: Account }): Promise<Deployment> {
  const { publicClient, walletClient } = clientsFor(params);
  const { abi, bytecode } = chamaArtifact();
  const hash = await walletClient.deployContract({ abi, bytecode });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new Error(`Chama deployment ${hash} failed (status ${receipt.status}).`);
  }
  return {
    chainId: params.chainId,
    address: receipt.contractAddress,
    startBlock: Number(receipt.blockNumber),
    transactionHash: hash,
  };
}

/** Writes deployments/<chainId>.json, which ponder.config.ts reads. */
export function writeDeployment(params: { root?: string; deployment: Deployment }): string {
  const file = deploymentPath({ root: params.root ?? projectRoot, chainId: params.deployment.chainId });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(params.deployment, null, 2)}\n`);
  return file;
}

