/**
 * Runs the real indexer (`ponder start`) against a benchmark chain and times it from spawn to
 * the last row visible over GraphQL, sampling the process tree's memory on the way.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Address } from "viem";
import { LOCAL_CHAIN_ID } from "../../common/chain";
import { graphql as graphqlData } from "../../common/graphql";
import { spawnPonder, waitForPonderHealth } from "../../scripts/lib/ponder";
import { getFreePort } from "../../scripts/lib/ports";
import { stopProcess, waitFor, waitForExit } from "../../scripts/lib/processes";
import { sampleRss } from "./rss";

export type BenchDatabase = { kind: "pglite" } | { kind: "postgres"; url: string };

export type RunningIndexer = {
  url: string;
  /** The database schema it writes. */
  schema: string;
  pid: number;
  logs: () => string;
  graphql: <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;
  indexedBlock: () => Promise<number | undefined>;
  stop: () => Promise<void>;
  /** SIGKILL (a crash); the storage is kept for a restart on it. */
  kill: () => Promise<void>;
  /** Where it keeps its data, for a restart (`storage` of the next start). */
  storage: BenchStorage;
};

export type BenchStorage = { schema: string; pgliteDirectory: string };

let counter = 0;

/** Spawns `ponder start` on a free port and resolves once its HTTP server answers. */
export async function startBenchIndexer(params: {
  rpcUrl: string;
  address: Address;
  startBlock: number;
  database: BenchDatabase;
  env?: Record<string, string>;
  /** Restart on an earlier run's data (default: fresh storage, removed on stop). */
  storage?: BenchStorage;
}): Promise<RunningIndexer> {
  const port = await getFreePort();
  const storage = params.storage ?? { schema: `bench_${process.pid}_${counter++}`, pgliteDirectory: mkdtempSync(path.join(os.tmpdir(), "jenga-bench-pglite-")) };
  const { schema, pgliteDirectory } = storage;
  const child = spawnPonder({
    args: ["start", "--port", String(port), "--hostname", "127.0.0.1", "--schema", schema],
    stdio: "pipe",
    env: {
      CHAIN_ID: String(LOCAL_CHAIN_ID),
      PONDER_RPC_URL_31337: params.rpcUrl,
      CHAMA_ADDRESS: params.address,
      CHAMA_START_BLOCK: String(params.startBlock),
      DATABASE_URL: params.database.kind === "postgres" ? params.database.url : "",
      PGLITE_DIRECTORY: pgliteDirectory,
      PONDER_LOG_LEVEL: "warn",
      ...params.env,
    },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const exitedEarly = () => {
    if (child.exitCode !== null) throw new Error(`indexer exited with code ${child.exitCode}:\n${output.slice(-4000)}`);
  };
  const stop = async () => {
    await stopProcess(child, { graceMs: 5_000 });
    rmSync(pgliteDirectory, { recursive: true, force: true });
    rmSync(`${pgliteDirectory}.pid`, { force: true });
  };
  const kill = async () => {
    const exited = waitForExit(child);
    child.kill("SIGKILL");
    await exited;
  };
  const graphql = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    exitedEarly();
    return graphqlData<T>({ url: `${url}/graphql`, query, variables });
  };
  const indexedBlock = async () => {
    exitedEarly();
    const response = await fetch(`${url}/status`);
    if (!response.ok) return undefined;
    const status = (await response.json()) as Record<string, { block?: { number: number } | null }>;
    return status.anvil?.block?.number;
  };
  try {
    await waitForPonderHealth({ url, what: "the indexer's HTTP server", exitedEarly, timeoutMs: 60_000, intervalMs: 20 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, schema, pid: child.pid!, logs: () => output, graphql, indexedBlock, stop, kill, storage };
}

export type Counts = { chamas: number; contributions: number; payouts: number };

const COUNTS_QUERY = `{
  chamas(limit: 1) { totalCount }
  contributions(limit: 1) { totalCount }
  payouts(limit: 1) { totalCount }
}`;

type CountsResult = { chamas: { totalCount: number }; contributions: { totalCount: number }; payouts: { totalCount: number } };

/** Row counts of the raw tables, over GraphQL. */
export async function counts(indexer: RunningIndexer): Promise<Counts> {
  const data = await indexer.graphql<CountsResult>(COUNTS_QUERY);
  return { chamas: data.chamas.totalCount, contributions: data.contributions.totalCount, payouts: data.payouts.totalCount };
}

/** Indexes a chain from scratch: seconds from spawn until every expected row is visible over
 * GraphQL, and the indexer tree's peak RSS. */
export async function timeBackfill(params: {
  rpcUrl: string;
  address: Address;
  startBlock: number;
  lastEventBlock: number;
  expected: Counts;
  database: BenchDatabase;
  env?: Record<string, string>;
  log: (line: string) => void;
  timeoutMs?: number;
}): Promise<{ seconds: number; startupSeconds: number; peakRssMiB: number }> {
  const started = performance.now();
  const indexer = await startBenchIndexer(params);
  // Spawn to HTTP server up: build, database connection, migrations. Included in `seconds`.
  const startupSeconds = (performance.now() - started) / 1000;
  const rss = sampleRss(indexer.pid);
  let lastProgress = performance.now();
  try {
    await waitFor({
      what: `the indexer to reach block ${params.lastEventBlock} with every row`,
      timeoutMs: params.timeoutMs ?? 900_000,
      intervalMs: 50,
      check: async () => {
        const block = await indexer.indexedBlock();
        if (performance.now() - lastProgress > 3_000) {
          lastProgress = performance.now();
          params.log(`    indexed block ${block ?? "-"}/${params.lastEventBlock} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
        }
        if (block === undefined || block < params.lastEventBlock) return undefined;
        const seen = await counts(indexer);
        const done =
          seen.chamas === params.expected.chamas &&
          seen.contributions === params.expected.contributions &&
          seen.payouts === params.expected.payouts;
        return done ? true : undefined;
      },
    });
    return { seconds: (performance.now() - started) / 1000, startupSeconds, peakRssMiB: rss.stop() };
  } catch (error) {
    rss.stop();
    params.log(indexer.logs().slice(-3000));
    throw error;
  } finally {
    await indexer.stop();
  }
}
