/**
 * Crash recovery: the real indexer follows an automining anvil in realtime, is killed with
 * SIGKILL, and a contribution lands while it is down; then it is started again on the same
 * storage. Timed from the restart's spawn until the new head is indexed and the contribution
 * is visible over GraphQL, on PGlite and PostgreSQL, with where the time went: the process up to
 * its HTTP server (build, checks, lock, migrations), a wait for the schema lock if any (Ponder's
 * "Schema is locked"), and the rest (crash recovery, re-fetching from the checkpoint).
 */
import { type Address, type Hex, encodeFunctionData, toHex } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { startAnvil } from "../scripts/lib/anvil";
import { chamaArtifact, devAccounts } from "../scripts/lib/chama";
import { getFreePort } from "../scripts/lib/ports";
import { waitFor } from "../scripts/lib/processes";
import { rpc } from "../test/_support/json-rpc";
import { createDatabase } from "../test/_support/postgres";
import { type BenchDatabase, type RunningIndexer, startBenchIndexer } from "./lib/indexer";
import { round } from "./lib/stats";

export type RecoveryResult = {
  database: "pglite" | "postgres";
  /** Restart spawn to the new head indexed and its row visible. */
  seconds: number;
  /** Of it: spawn to the HTTP server answering. */
  startupSeconds: number;
  /** Whether Ponder waited for the crashed process's lock. */
  lockWait: boolean;
};

const ACCOUNTS = devAccounts(4);
const DEPLOYER: Address = ACCOUNTS[0]!.address;

async function receiptOf(url: string, hash: Hex): Promise<{ blockNumber: Hex; contractAddress: Address | null }> {
  return waitFor({
    what: `the receipt of ${hash}`,
    timeoutMs: 30_000,
    intervalMs: 20,
    check: async () => (await rpc<{ blockNumber: Hex; contractAddress: Address | null } | null>(url, "eth_getTransactionReceipt", [hash])) ?? undefined,
  });
}

async function send(url: string, from: Address, to: Address, data: Hex, value = 0n) {
  return receiptOf(url, await rpc<Hex>(url, "eth_sendTransaction", [{ from, to, data, value: toHex(value), gas: toHex(300_000) }]));
}

const contribute = (url: string, address: Address, from: Address) =>
  send(url, from, address, encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [1n] }), 1_000n);

async function contributionCount(indexer: RunningIndexer): Promise<number> {
  const data = await indexer.graphql<{ contributions: { totalCount: number } }>("{ contributions(limit: 1) { totalCount } }");
  return data.contributions.totalCount;
}

/** One crash and restart on `database`. */
async function recoverOnce(params: { database: "pglite" | "postgres"; postgresUrl: string; env?: Record<string, string>; log: (line: string) => void }): Promise<RecoveryResult> {
  const anvil = await startAnvil({ port: await getFreePort() });
  const url = anvil.rpcUrl;
  let drop = async () => {};
  let database: BenchDatabase = { kind: "pglite" };
  if (params.database === "postgres") {
    const created = await createDatabase({ clusterUrl: params.postgresUrl, prefix: "bench" });
    database = { kind: "postgres", url: created.url };
    drop = created.drop;
  }
  let restarted: RunningIndexer | undefined;
  try {
    const deployed = await receiptOf(url, await rpc<Hex>(url, "eth_sendTransaction", [{ from: DEPLOYER, data: chamaArtifact().bytecode, gas: toHex(5_000_000) }]));
    const address = deployed.contractAddress!;
    const startBlock = Number(deployed.blockNumber);
    await send(url, DEPLOYER, address, encodeFunctionData({ abi: ChamaAbi, functionName: "createChama", args: ["Recovery", 1_000n] }));
    for (const account of ACCOUNTS.slice(1)) await contribute(url, address, account.address);

    const env = { ...params.env, LEDGER_ENABLED: "false", PONDER_LOG_LEVEL: "info" };
    const first = await startBenchIndexer({ rpcUrl: url, address, startBlock, database, env });
    await waitFor({ what: "the indexer to catch up", timeoutMs: 120_000, check: async () => ((await contributionCount(first)) === 3 ? true : undefined) });
    // Realtime: one more block followed live, then the crash.
    await contribute(url, address, ACCOUNTS[1]!.address);
    await waitFor({ what: "the live contribution", timeoutMs: 30_000, intervalMs: 20, check: async () => ((await contributionCount(first)) === 4 ? true : undefined) });
    await first.kill();
    const landed = await contribute(url, address, ACCOUNTS[2]!.address);
    const head = Number(landed.blockNumber);

    const started = performance.now();
    restarted = await startBenchIndexer({ rpcUrl: url, address, startBlock, database, env, storage: first.storage });
    const startupSeconds = (performance.now() - started) / 1000;
    await waitFor({
      what: `the restarted indexer to serve block ${head}`,
      timeoutMs: 180_000,
      intervalMs: 20,
      check: async () => {
        const block = await restarted!.indexedBlock();
        return block !== undefined && block >= head && (await contributionCount(restarted!)) === 5 ? true : undefined;
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const lockWait = restarted.logs().includes("Schema is locked");
    params.log(`  recovery/${params.database}: ${seconds.toFixed(2)} s from restart to the new head served (${startupSeconds.toFixed(1)} s to HTTP up${lockWait ? ", with a lock wait" : ", no lock wait"})`);
    return { database: params.database, seconds: round(seconds, 2), startupSeconds: round(startupSeconds, 2), lockWait };
  } finally {
    await restarted?.stop();
    await anvil.stop();
    await drop();
  }
}

/** Crash recovery on both databases. */
export async function runRecovery(params: { postgresUrl: string; env?: Record<string, string>; log: (line: string) => void }): Promise<{ pglite: RecoveryResult; postgres: RecoveryResult }> {
  const pglite = await recoverOnce({ ...params, database: "pglite" });
  const postgres = await recoverOnce({ ...params, database: "postgres" });
  return { pglite, postgres };
}
