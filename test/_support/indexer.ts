/**
 * The real indexer (`ponder start`) as a child process on PGlite or PostgreSQL, its storage,
 * and the ops endpoints the tests call on it.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { Address } from "viem";
import { type GraphQLResponse, postGraphQL } from "../../common/graphql";
import type { ReconcileReport, SyncHealth } from "../../common/ops-api";
import { spawnPonder, waitForPonderHealth } from "../../scripts/lib/ponder";
import { getFreePort } from "../../scripts/lib/ports";
import { stopProcess, waitFor, waitForExit } from "../../scripts/lib/processes";
import { CHAIN_ID, type Chain, type Database } from "./chain";

export type Indexer = {
  url: string;
  storage: IndexerStorage;
  /** storage.schema, for short. */
  schema: string;
  database: Database;
  /** Everything the process printed so far. */
  logs: () => string;
  graphql: <T>(query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse<T>>;
  /** The block the indexer has processed, from /status. */
  indexedBlock: () => Promise<bigint | undefined>;
  /** Waits until the indexer has processed `block` (default: the chain head). */
  waitForBlock: (block?: bigint, timeoutMs?: number) => Promise<void>;
  /** SIGTERM, then waits for exit; removes the storage if this run created it. */
  stop: () => Promise<void>;
  /** SIGKILL (a crash), then waits for exit; keeps the storage for a restart. */
  kill: () => Promise<void>;
};

/** Where an indexer run keeps its data: a schema in its own PostgreSQL database, or a PGlite
 * directory; and, for PGlite, the transaction ledger's own directory (each run its own, so no
 * two processes ever open one PGlite). Pass it to a later startIndexer to restart on the same data. */
export type IndexerStorage = { schema: string; databaseUrl: string | undefined; pgliteDirectory: string; ledgerDirectory: string };

let schemaCounter = 0;

/** Creates fresh storage: a new schema in the chain's database, or a new PGlite directory. */
export function createStorage(params: { database: Database; chain: Chain }): IndexerStorage {
  const schema = `test_${process.pid}_${Date.now().toString(36)}_${schemaCounter++}`;
  const pgliteDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-pglite-"));
  const ledgerDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-ledger-"));
  if (params.database === "pglite") return { schema, databaseUrl: undefined, pgliteDirectory, ledgerDirectory };
  if (!params.chain.databaseUrl) throw new Error("No PostgreSQL database for this chain: is JENGA_TEST_DATABASE_URL set?");
  return { schema, databaseUrl: params.chain.databaseUrl, pgliteDirectory, ledgerDirectory };
}

/** Deletes what createStorage made. */
export async function removeStorage(storage: IndexerStorage): Promise<void> {
  rmSync(storage.pgliteDirectory, { recursive: true, force: true });
  rmSync(storage.ledgerDirectory, { recursive: true, force: true });
  if (!storage.databaseUrl) return;
  const client = new pg.Client({ connectionString: storage.databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${storage.schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Starts the real indexer (`ponder start`) on a free port for a deployed Chama. */
export async function startIndexer(params: {
  chain: Chain;
  address: Address;
  startBlock: number;
  database: Database;
  /** The RPC the indexer uses (default: the chain's own), e.g. a fault-injecting proxy. */
  rpcUrl?: string;
  /** Restart on the data of an earlier run (default: fresh storage, removed on stop). */
  storage?: IndexerStorage;
  env?: Record<string, string>;
  /** Extra `ponder start` arguments (e.g. --views-schema). */
  args?: string[];
  /** Run the project from this directory (a copy of it) instead of the project root. */
  cwd?: string;
}): Promise<Indexer> {
  const { chain, address, startBlock, database } = params;
  const port = await getFreePort();
  const ownsStorage = params.storage === undefined;
  const storage = params.storage ?? createStorage({ database, chain });
  const child = spawnPonder({
    args: ["start", "--port", String(port), "--hostname", "127.0.0.1", "--schema", storage.schema, ...(params.args ?? [])],
    stdio: "pipe",
    cwd: params.cwd,
    env: {
      CHAIN_ID: String(CHAIN_ID),
      [`PONDER_RPC_URL_${CHAIN_ID}`]: params.rpcUrl ?? chain.rpcUrl,
      CHAMA_ADDRESS: address,
      CHAMA_START_BLOCK: String(startBlock),
      DATABASE_URL: storage.databaseUrl ?? "",
      PGLITE_DIRECTORY: storage.pgliteDirectory,
      LEDGER_PGLITE_DIRECTORY: storage.ledgerDirectory,
      PONDER_LOG_LEVEL: "info",
      ...params.env,
    },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const url = `http://127.0.0.1:${port}`;
  const graphql = <T>(query: string, variables?: Record<string, unknown>) => postGraphQL<T>({ url: `${url}/graphql`, query, variables });
  const indexedBlock = async () => {
    const response = await fetch(`${url}/status`);
    if (!response.ok) return undefined;
    const status = (await response.json()) as Record<string, { block?: { number: number } | null }>;
    const block = status.anvil?.block?.number;
    return block === undefined ? undefined : BigInt(block);
  };
  const exitedEarly = () => {
    if (child.exitCode !== null) throw new Error(`indexer exited with code ${child.exitCode}:\n${output.slice(-4000)}`);
  };
  const waitForBlock = async (block?: bigint, timeoutMs = 60_000) => {
    const target = block ?? (await chain.publicClient.getBlockNumber({ cacheTime: 0 }));
    await waitFor({
      what: `the indexer to reach block ${target}`,
      timeoutMs,
      failFast: exitedEarly,
      check: async () => {
        const indexed = await indexedBlock();
        return indexed !== undefined && indexed >= target ? true : undefined;
      },
    });
  };

  const stop = async () => {
    await stopProcess(child, { graceMs: 5_000 });
    if (ownsStorage) await removeStorage(storage);
  };
  const kill = async () => {
    const exited = waitForExit(child);
    child.kill("SIGKILL");
    await exited;
  };

  try {
    // A restart on a schema another live process holds waits for Ponder's lock (up to 25 s).
    await waitForPonderHealth({ url, what: "the indexer's HTTP server", exitedEarly, timeoutMs: 90_000, intervalMs: 100 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, storage, schema: storage.schema, database, logs: () => output, graphql, indexedBlock, waitForBlock, stop, kill };
}

/** Runs `ponder start` with the given environment and resolves with its exit code, its output
 * and how many files it left in its (fresh) PGlite directory, for start-up error tests. Kills it
 * after `timeoutMs`. */
export async function runIndexerToExit(params: { env: Record<string, string>; timeoutMs?: number }) {
  const port = await getFreePort();
  const pgliteDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-pglite-"));
  const ledgerDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-ledger-"));
  const child = spawnPonder({
    args: ["start", "--port", String(port), "--hostname", "127.0.0.1", "--schema", "bad_config"],
    stdio: "pipe",
    env: { DATABASE_URL: "", PGLITE_DIRECTORY: pgliteDirectory, LEDGER_PGLITE_DIRECTORY: ledgerDirectory, ...params.env },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), params.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  const databaseFiles = readdirSync(pgliteDirectory).length;
  rmSync(pgliteDirectory, { recursive: true, force: true });
  rmSync(ledgerDirectory, { recursive: true, force: true });
  return { code, output, databaseFiles };
}

/** A fixed admin token for the tests' indexers (POST /reconcile). */
export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

/** GET /sync-health: the HTTP status and the parsed body. */
export async function syncHealth(url: string): Promise<{ status: number; body: SyncHealth }> {
  const response = await fetch(`${url}/sync-health`);
  return { status: response.status, body: (await response.json()) as SyncHealth };
}

/** POST /reconcile with the given token (none: no Authorization header). */
export async function postReconcile(url: string, token?: string): Promise<{ status: number; body: ReconcileReport & { error?: string } }> {
  const response = await fetch(`${url}/reconcile`, {
    method: "POST",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as ReconcileReport & { error?: string } };
}
