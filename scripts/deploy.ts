/**
 * Deploys Chama to the configured chain and writes deployments/<chainId>.json.
 *
 *   npm run deploy                       # local anvil (chain 31337), anvil's first dev key
 *   CHAIN_ID=… PONDER_RPC_URL_…=… DEPLOYER_PRIVATE_KEY=0x… npm run deploy
 */
import { type Hex, isHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { LOCAL_CHAIN_ID } from "../common/chain";
import { ConfigError, assertChain, loadChainEnv } from "../config/env";
import { deployChama, devAccounts, projectRoot, writeDeployment } from "./lib/chama";
import { runMain } from "./lib/main";

function deployerAccount(chainId: number) {
  const key = process.env.DEPLOYER_PRIVATE_KEY?.trim();
  if (key) {
    if (!isHex(key) || key.length !== 66) {
      throw new ConfigError("DEPLOYER_PRIVATE_KEY must be a 32-byte hex private key (0x followed by 64 hex digits).");
    }
    return privateKeyToAccount(key as Hex);
  }
  if (chainId !== LOCAL_CHAIN_ID) {
    throw new ConfigError(`DEPLOYER_PRIVATE_KEY is not set. It is required on chain ${chainId}; the dev key is only used on ${LOCAL_CHAIN_ID}.`);
  }
  const [first] = devAccounts(1);
  if (!first) throw new Error("unreachable: no dev account");
  return first;
}

await runMain(async () => {
  const chain = loadChainEnv();
  const account = deployerAccount(chain.chainId);
  await assertChain(chain);
  console.log(`Deploying Chama to chain ${chain.chainId} at ${chain.rpcUrl} from ${account.address}…`);
  const deployment = await deployChama({ chainId: chain.chainId, rpcUrl: chain.rpcUrl, account });
  const file = writeDeployment({ root: projectRoot, deployment });
  console.log(`Chama deployed at ${deployment.address} in block ${deployment.startBlock} (tx ${deployment.transactionHash})`);
  console.log(`Wrote ${file.slice(projectRoot.length + 1)}`);
});
