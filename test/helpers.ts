/**
 * Shared fixtures for the tests: a real anvil, a deployed Chama, a real indexer process
 * (`ponder start`) on PGlite or PostgreSQL, and small typed helpers around them. Each setup
 * returns its own teardown.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { type Account, type Address, type Hash, createTestClient, http } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { type Anvil, startAnvil } from "../scripts/lib/anvil";
import { chainFor, clientsFor, deployChama, devAccounts } from "../scripts/lib/chama";
import { spawnPonder } from "../scripts/lib/ponder";
import { getFreePort } from "../scripts/lib/ports";
import { stopProcess, waitFor, waitForExit } from "../scripts/lib/processes";

export { waitFor } from "../scripts/lib/processes";

export const CHAIN_ID = 31337;
export const accounts = devAccounts(10);

/** 1 sat = 10^10 wei. */
export const SAT = 10_000_000_000n;

export type Database = "pglite" | "postgres";

/** The databases the indexer suites run on. PostgreSQL comes from test/global-setup.ts. */
export const databases: Database[] = ["pglite", "postgres"];

/** Connection string of the test PostgreSQL cluster, set by test/global-setup.ts. */
export function postgresUrl(): string {
  const url = process.env.JENGA_TEST_DATABASE_URL;
  if (!url) throw new Error("JENGA_TEST_DATABASE_URL is not set: run the tests through vitest (test/global-setup.ts starts PostgreSQL).");
  return url;
}

export type Chain = {
  anvil: Anvil;
  rpcUrl: string;
  testClient: ReturnType<typeof createTestClient>;
  publicClient: ReturnType<typeof clientsFor>["publicClient"];
  stop: () => Promise<void>;
};

/** Starts anvil (automine) on a free port. */
export async function startChain(params: { chainId?: number; args?: string[] } = {}): Promise<Chain> {
  const chainId = params.chainId ?? CHAIN_ID;
  const anvil = await startAnvil({ port: await getFreePort(), chainId, args: params.args });
  const chain = chainFor({ chainId, rpcUrl: anvil.rpcUrl });
  const testClient = createTestClient({ chain, mode: "anvil", transport: http(anvil.rpcUrl) });
  const { publicClient } = clientsFor({ chainId, rpcUrl: anvil.rpcUrl, account: accounts[0]! });
  return { anvil, rpcUrl: anvil.rpcUrl, testClient, publicClient, stop: anvil.stop };
}

/** Deploys Chama from account 0 and mines the block. */
export async function deploy(chain: Chain) {
  return deployChama({ chainId: CHAIN_ID, rpcUrl: chain.rpcUrl, account: accounts[0]! });
}

/** Typed write helpers for one account against a deployed Chama; each waits for the receipt. */
export function chamaAs(params: { chain: Chain; address: Address; account: Account }) {
  const { walletClient, publicClient } = clientsFor({ chainId: CHAIN_ID, rpcUrl: params.chain.rpcUrl, account: params.account });
  const { address } = params;
  const send = async (hash: Hash) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`tx ${hash} reverted`);
    return receipt;
  };
  return {
    account: params.account,
    createChama: async (name: string, minimum: bigint) =>
      send(await walletClient.writeContract({ address, abi: ChamaAbi, functionName: "createChama", args: [name, minimum] })),
    contribute: async (chamaId: bigint, value: bigint) =>
      send(await walletClient.writeContract({ address, abi: ChamaAbi, functionName: "contribute", args: [chamaId], value })),
    payout: async (chamaId: bigint, recipient: Address, amount: bigint) =>
      send(await walletClient.writeContract({ address, abi: ChamaAbi, functionName: "payout", args: [chamaId, recipient, amount] })),
    /** Sends without waiting (for packing many transactions into one block with mining paused). */
    contributeNoWait: (chamaId: bigint, value: bigint, nonce?: number) =>
      walletClient.writeContract({ address, abi: ChamaAbi, functionName: "contribute", args: [chamaId], value, nonce, gas: 200_000n }),
    walletClient,
  };
}

export type Indexer = {
  url: string;
  storage: IndexerStorage;
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

export type GraphQLResponse<T> = { data?: T; errors?: { message: string }[]; status: number };

/** Where an indexer run keeps its data: a schema in its own PostgreSQL database, or a PGlite
 * directory. Pass it to a later startIndexer to restart on the same data. */
export type IndexerStorage = { schema: string; databaseUrl: string | undefined; pgliteDirectory: string };

let schemaCounter = 0;

/** Creates fresh storage. On PostgreSQL each run gets its own database, so Ponder's shared
 * `ponder_sync` cache never mixes two anvil chains that reuse chain id 31337 and addresses. */
export async function createStorage(database: Database): Promise<IndexerStorage> {
  const schema = `test_${process.pid}_${Date.now().toString(36)}_${schemaCounter++}`;
  const pgliteDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-pglite-"));
  if (database === "pglite") return { schema, databaseUrl: undefined, pgliteDirectory };
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${schema}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl());
  url.pathname = `/${schema}`;
  return { schema, databaseUrl: url.toString(), pgliteDirectory };
}

/** Deletes what createStorage made. */
export async function removeStorage(storage: IndexerStorage): Promise<void> {
  rmSync(storage.pgliteDirectory, { recursive: true, force: true });
  if (!storage.databaseUrl) return;
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${storage.schema}" WITH (FORCE)`);
  } finally {
    await admin.end();
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
}): Promise<Indexer> {
  const { chain, address, startBlock, database } = params;
  const port = await getFreePort();
  const ownsStorage = params.storage === undefined;
  const storage = params.storage ?? (await createStorage(database));
  const child = spawnPonder({
    args: ["start", "--port", String(port), "--hostname", "127.0.0.1", "--schema", storage.schema],
    stdio: "pipe",
    env: {
      CHAIN_ID: String(CHAIN_ID),
      [`PONDER_RPC_URL_${CHAIN_ID}`]: params.rpcUrl ?? chain.rpcUrl,
      CHAMA_ADDRESS: address,
      CHAMA_START_BLOCK: String(startBlock),
      DATABASE_URL: storage.databaseUrl ?? "",
      PGLITE_DIRECTORY: storage.pgliteDirectory,
      PONDER_LOG_LEVEL: "info",
      ...params.env,
    },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const url = `http://127.0.0.1:${port}`;
  const graphql = async <T>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as Omit<GraphQLResponse<T>, "status">;
    return { ...body, status: response.status };
  };
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
      check: async () => {
        exitedEarly();
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
    await waitFor({
      what: "the indexer's HTTP server",
      // A restart after a crash waits for the dead run's schema lock to expire (up to 25 s).
      timeoutMs: 90_000,
      intervalMs: 100,
      check: async () => {
        exitedEarly();
        return (await fetch(`${url}/health`)).ok ? true : undefined;
      },
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, storage, database, logs: () => output, graphql, indexedBlock, waitForBlock, stop, kill };
}

/** Runs `ponder start` with the given environment and resolves with its exit code, its output
 * and how many files it left in its (fresh) PGlite directory, for start-up error tests. Kills it
 * after `timeoutMs`. */
export async function runIndexerToExit(params: { env: Record<string, string>; timeoutMs?: number }) {
  const port = await getFreePort();
  const pgliteDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-pglite-"));
  const child = spawnPonder({
    args: ["start", "--port", String(port), "--hostname", "127.0.0.1", "--schema", "bad_config"],
    stdio: "pipe",
    env: { DATABASE_URL: "", PGLITE_DIRECTORY: pgliteDirectory, ...params.env },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), params.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  const databaseFiles = readdirSync(pgliteDirectory).length;
  rmSync(pgliteDirectory, { recursive: true, force: true });
  return { code, output, databaseFiles };
}
