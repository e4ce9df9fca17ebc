/**
 * Shared fixtures for the tests: a real anvil, a deployed Chama, a real indexer process
 * (`ponder start`) on PGlite or PostgreSQL, and small typed helpers around them. Each setup
 * returns its own teardown.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { type Account, type Address, type Hash, createTestClient, http } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { type Anvil, startAnvil } from "../scripts/lib/anvil";
import type { SyncHealth } from "../ops/health";
import type { ReconcileReport } from "../ops/reconcile";
import { LOCAL_CHAIN_ID, chainFor } from "../common/chain";
import { type GraphQLResponse, postGraphQL } from "../common/graphql";
import { clientsFor, deployChama, devAccounts, projectRoot } from "../scripts/lib/chama";
import { spawnPonder, waitForPonderHealth } from "../scripts/lib/ponder";
import { getFreePort } from "../scripts/lib/ports";
import { stopProcess, waitFor, waitForExit } from "../scripts/lib/processes";

export { waitFor } from "../scripts/lib/processes";
export { SAT } from "../common/chain";

export const CHAIN_ID = LOCAL_CHAIN_ID;
export const accounts = devAccounts(10);

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
  /** This chain's own PostgreSQL database (when the test cluster is up). Ponder's `ponder_sync`
   * cache is per database and keyed by chain id, so two anvil chains that reuse chain id 31337,
   * addresses and transaction hashes must never share one. */
  databaseUrl: string | undefined;
  testClient: ReturnType<typeof createTestClient>;
  publicClient: ReturnType<typeof clientsFor>["publicClient"];
  stop: () => Promise<void>;
};

let databaseCounter = 0;

/** Runs one statement on the test cluster's maintenance database. */
async function adminQuery(statement: string) {
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** Starts anvil (automine) on a free port, with its own PostgreSQL database when the test
 * cluster is up; stop() removes both. */
export async function startChain(params: { chainId?: number; args?: string[] } = {}): Promise<Chain> {
  const chainId = params.chainId ?? CHAIN_ID;
  const anvil = await startAnvil({ port: await getFreePort(), chainId, args: params.args });
  const chain = chainFor({ chainId, rpcUrl: anvil.rpcUrl });
  const testClient = createTestClient({ chain, mode: "anvil", transport: http(anvil.rpcUrl) });
  const { publicClient } = clientsFor({ chainId, rpcUrl: anvil.rpcUrl, account: accounts[0]! });
  let databaseUrl: string | undefined;
  let database: string | undefined;
  if (process.env.JENGA_TEST_DATABASE_URL) {
    database = `chain_${process.pid}_${Date.now().toString(36)}_${databaseCounter++}`;
    await adminQuery(`CREATE DATABASE "${database}"`);
    const url = new URL(postgresUrl());
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  }
  const stop = async () => {
    await anvil.stop();
    if (database) await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  };
  return { anvil, rpcUrl: anvil.rpcUrl, databaseUrl, testClient, publicClient, stop };
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

export type { GraphQLResponse } from "../common/graphql";

/** Where an indexer run keeps its data: a schema in its own PostgreSQL database, or a PGlite
 * directory. Pass it to a later startIndexer to restart on the same data. */
export type IndexerStorage = { schema: string; databaseUrl: string | undefined; pgliteDirectory: string };

let schemaCounter = 0;

/** Creates fresh storage: a new schema in the chain's database, or a new PGlite directory. */
export function createStorage(params: { database: Database; chain: Chain }): IndexerStorage {
  const schema = `test_${process.pid}_${Date.now().toString(36)}_${schemaCounter++}`;
  const pgliteDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-pglite-"));
  if (params.database === "pglite") return { schema, databaseUrl: undefined, pgliteDirectory };
  if (!params.chain.databaseUrl) throw new Error("No PostgreSQL database for this chain: is JENGA_TEST_DATABASE_URL set?");
  return { schema, databaseUrl: params.chain.databaseUrl, pgliteDirectory };
}

/** Deletes what createStorage made. */
export async function removeStorage(storage: IndexerStorage): Promise<void> {
  rmSync(storage.pgliteDirectory, { recursive: true, force: true });
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
    // A restart after a crash waits for the dead run's schema lock to expire (up to 25 s).
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

/** The environment the project's scripts need for a test chain and deployment. */
export function scriptEnv(params: { chain: Chain; address: Address; startBlock: number; database: Database; pgliteDirectory?: string }): Record<string, string> {
  return {
    CHAIN_ID: String(CHAIN_ID),
    [`PONDER_RPC_URL_${CHAIN_ID}`]: params.chain.rpcUrl,
    CHAMA_ADDRESS: params.address,
    CHAMA_START_BLOCK: String(params.startBlock),
    DATABASE_URL: params.database === "postgres" ? (params.chain.databaseUrl ?? postgresUrl()) : "",
    PGLITE_DIRECTORY: params.pgliteDirectory ?? "",
    ADMIN_TOKEN,
    PONDER_TELEMETRY_DISABLED: "true",
  };
}

/** Starts one of the project's scripts (`scripts/<name>.ts`, as `npm run <name>` does). */
export function spawnScript(params: { name: string; args?: string[]; env: Record<string, string> }) {
  const child = spawn(process.execPath, ["--import", "tsx", `scripts/${params.name}.ts`, ...(params.args ?? [])], {
    cwd: projectRoot,
    env: { ...process.env, ...params.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

/** Runs a script to its end; resolves with its exit code and output. Kills it after `timeoutMs`. */
export async function runScript(params: { name: string; args?: string[]; env: Record<string, string>; timeoutMs?: number }) {
  const { child, output } = spawnScript(params);
  const timer = setTimeout(() => child.kill("SIGKILL"), params.timeoutMs ?? 120_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, ...output() };
}

/** Starts an API-only replica with `npm run serve` on a free port and waits for /health. */
export async function startReplica(params: { schema: string; env: Record<string, string> }) {
  const port = await getFreePort();
  const { child, output } = spawnScript({ name: "serve", args: ["--port", String(port), "--hostname", "127.0.0.1", "--schema", params.schema], env: params.env });
  const url = `http://127.0.0.1:${port}`;
  await waitForPonderHealth({
    url,
    what: `the replica on ${url}`,
    exitedEarly: () => {
      if (child.exitCode !== null) throw new Error(`replica exited with code ${child.exitCode}: ${JSON.stringify(output())}`);
    },
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  return { url, output, stop: () => stopProcess(child, { graceMs: 5_000 }) };
}

/** A JSON-RPC proxy in front of `target` that answers like it, except that eth_getLogs results
 * lose the logs of `dropTransaction` (a faulty provider), and eth_getLogs over more than
 * `maxLogRange` blocks is refused (a provider's range limit). */
export async function startLyingRpc(params: {
  target: string;
  dropTransaction?: string;
  maxLogRange?: number;
  /** Awaited before an `eth_getLogs({ blockHash })` request is forwarded: lets a test change the
   * chain while the indexer waits for a block's logs. */
  beforeBlockLogs?: (blockHash: string) => Promise<void>;
}) {
  const port = await getFreePort();
  const drop = params.dropTransaction?.toLowerCase();
  type RpcMessage = { id?: number; method?: string; params?: { fromBlock?: string; toBlock?: string; blockHash?: string }[]; result?: unknown };
  const tooWide = (request: RpcMessage) => {
    const filter = request.params?.[0];
    if (request.method !== "eth_getLogs" || params.maxLogRange === undefined || !filter?.fromBlock || !filter.toBlock) return false;
    return BigInt(filter.toBlock) - BigInt(filter.fromBlock) + 1n > BigInt(params.maxLogRange);
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      void (async () => {
        const requests = JSON.parse(body) as RpcMessage | RpcMessage[];
        const single = !Array.isArray(requests);
        const list = Array.isArray(requests) ? requests : [requests];
        for (const request of list) {
          const blockHash = request.method === "eth_getLogs" ? request.params?.[0]?.blockHash : undefined;
          if (blockHash && params.beforeBlockLogs) await params.beforeBlockLogs(blockHash);
        }
        const refused = list.filter(tooWide);
        const forwarded = list.filter((r) => !tooWide(r));
        let answers: RpcMessage[] = [];
        if (forwarded.length > 0) {
          const upstream = await fetch(params.target, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(forwarded) });
          answers = (await upstream.json()) as RpcMessage[];
        }
        const scrub = (answer: RpcMessage) => {
          const request = forwarded.find((r) => r.id === answer.id);
          return drop && request?.method === "eth_getLogs" && Array.isArray(answer.result)
            ? { ...answer, result: (answer.result as { transactionHash?: string }[]).filter((log) => log.transactionHash?.toLowerCase() !== drop) }
            : answer;
        };
        const out = [
          ...answers.map(scrub),
          ...refused.map((r) => ({ jsonrpc: "2.0", id: r.id, error: { code: -32602, message: `block range too wide (max ${params.maxLogRange})` } })),
        ];
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(single ? out[0] : list.map((r) => out.find((a) => a.id === r.id))));
      })().catch((error: unknown) => {
        res.writeHead(502);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
