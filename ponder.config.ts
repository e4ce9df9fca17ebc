import { fileURLToPath } from "node:url";
import { createConfig } from "ponder";
import { ChamaAbi } from "./abis/ChamaAbi";
import { loadEnv, preflight } from "./config/env";
import { indexerTransport } from "./config/rpc";

const env = loadEnv({ root: fileURLToPath(new URL(".", import.meta.url)) });

// `ponder codegen` and `ponder serve` never talk to the chain: check it only when indexing.
const indexing = process.argv.slice(2).some((arg) => arg === "dev" || arg === "start");
if (indexing) await preflight(env);

export default createConfig({
  database: env.databaseUrl
    ? { kind: "postgres", connectionString: env.databaseUrl }
    : { kind: "pglite", directory: env.pgliteDirectory },
  chains: {
    [env.chainName]: {
      id: env.chainId,
      // One entry: our transport, which lets Ponder drop a head block a reorg replaced at once
      // (config/rpc.ts). Fan-out: the same URL listed N times, as Ponder rate-limits each entry on
      // its own; Ponder's own HTTP client then serves them, without that guard.
      rpc: env.rpcFanout > 1 ? Array.from({ length: env.rpcFanout }, () => env.rpcUrl) : indexerTransport(env.rpcUrl),
      ethGetLogsBlockRange: env.ethGetLogsBlockRange,
      pollingInterval: env.pollingInterval,
      disableCache: env.disableCache,
    },
  },
  contracts: {
    Chama: {
      chain: env.chainName,
      abi: ChamaAbi,
      address: env.chamaAddress,
      startBlock: env.startBlock,
    },
  },
});
