/**
 * Bad configuration gets a clear, specific error naming the variable and the fix, and nothing
 * starts: first the validation itself, then the real `ponder start` and the npm scripts.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectRoot } from "../scripts/lib/chama";
import { getFreePort } from "../scripts/lib/ports";
import { ConfigError, indexerNodeOptions, loadEnv } from "../config/env";
import pg from "pg";
import { type Chain, deploy, postgresUrl, startChain } from "./_support/chain";
import { runIndexerToExit } from "./_support/indexer";

const ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

describe("loadEnv", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "jenga-env-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const writeDeployment = (contents: string, chainId = 31337) => {
    mkdirSync(path.join(root, "deployments"), { recursive: true });
    writeFileSync(path.join(root, "deployments", `${chainId}.json`), contents);
  };
  const errorOf = (env: Record<string, string>) => {
    try {
      loadEnv({ root, env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error("expected a ConfigError");
  };

  test("defaults to the local chain and the deployment file", () => {
    writeDeployment(JSON.stringify({ chainId: 31337, address: ADDRESS.toLowerCase(), startBlock: 7 }));
    const env = loadEnv({ root, env: {} });
    expect(env).toMatchObject({
      chainId: 31337,
      chainName: "anvil",
      rpcUrl: "http://127.0.0.1:8545",
      chamaAddress: ADDRESS,
      startBlock: 7,
      databaseUrl: undefined,
      pgliteDirectory: path.join(root, ".ponder", "pglite"),
      pollingInterval: 100,
      disableCache: true,
      rpcFanout: 1,
      ethGetLogsBlockRange: undefined,
    });
  });

  test("explicit variables win over the deployment file", () => {
    const env = loadEnv({
      root,
      env: {
        CHAIN_ID: "8453",
        PONDER_RPC_URL_8453: "https://rpc.example.org",
        CHAMA_ADDRESS: ADDRESS,
        CHAMA_START_BLOCK: "123456",
        DATABASE_URL: "postgresql://u@127.0.0.1:5432/db",
      },
    });
    expect(env).toMatchObject({
      chainId: 8453,
      chainName: "chain8453",
      startBlock: 123456,
      pollingInterval: 1000,
      disableCache: false,
      rpcFanout: 1,
      ethGetLogsBlockRange: undefined,
    });
  });

  test("the indexer's semi-space comes from PONDER_NODE_SEMI_SPACE_MB unless NODE_OPTIONS sets it", () => {
    expect(indexerNodeOptions({ env: {} })).toBe("--max-semi-space-size=64");
    expect(indexerNodeOptions({ env: { PONDER_NODE_SEMI_SPACE_MB: "32", NODE_OPTIONS: "--enable-source-maps" } })).toBe(
      "--enable-source-maps --max-semi-space-size=32",
    );
    expect(indexerNodeOptions({ env: { NODE_OPTIONS: "--max-semi-space-size=8" } })).toBe("--max-semi-space-size=8");
    expect(() => indexerNodeOptions({ env: { PONDER_NODE_SEMI_SPACE_MB: "0" } })).toThrow(
      "PONDER_NODE_SEMI_SPACE_MB must be between 1 and 1024, got 0.",
    );
  });

  test("RPC tuning variables are read as whole numbers", () => {
    writeDeployment(JSON.stringify({ chainId: 31337, address: ADDRESS, startBlock: 1 }));
    const env = loadEnv({ root, env: { PONDER_RPC_FANOUT: "4", PONDER_ETH_GET_LOGS_BLOCK_RANGE: "2000" } });
    expect(env).toMatchObject({ rpcFanout: 4, ethGetLogsBlockRange: 2000 });
  });

  test.each([
    [{ CHAIN_ID: "abc" }, 'CHAIN_ID must be a whole number, got "abc".'],
    [{ CHAIN_ID: "10" }, "PONDER_RPC_URL_10 is not set. Set it to an HTTP(S) JSON-RPC URL for chain 10."],
    [{ PONDER_RPC_URL_31337: "ws://127.0.0.1:8545" }, 'PONDER_RPC_URL_31337 must use http: or https:, got "ws://127.0.0.1:8545".'],
    [{ PONDER_RPC_URL_31337: "not a url" }, 'PONDER_RPC_URL_31337 is not a valid URL: "not a url".'],
    [{ CHAMA_ADDRESS: "0x1234" }, 'CHAMA_ADDRESS is not a valid address: "0x1234".'],
    [{ CHAMA_ADDRESS: ADDRESS }, "CHAMA_START_BLOCK must be set with CHAMA_ADDRESS: use the block the contract was deployed in."],
    [{ CHAMA_ADDRESS: ADDRESS, CHAMA_START_BLOCK: "-1" }, 'CHAMA_START_BLOCK must be a whole number, got "-1".'],
    [{ CHAMA_ADDRESS: ADDRESS, CHAMA_START_BLOCK: "1e3" }, 'CHAMA_START_BLOCK must be a whole number, got "1e3".'],
    [{ DATABASE_URL: "mysql://u@host/db" }, 'DATABASE_URL must use postgres: or postgresql:, got "mysql://u@host/db".'],
    [{ PONDER_POLLING_INTERVAL_MS: "50" }, "PONDER_POLLING_INTERVAL_MS must be between 100 and 600000, got 50."],
    [{ PONDER_RPC_FANOUT: "0" }, "PONDER_RPC_FANOUT must be between 1 and 256, got 0."],
    [{ PONDER_RPC_FANOUT: "many" }, 'PONDER_RPC_FANOUT must be a whole number, got "many".'],
    [{ PONDER_ETH_GET_LOGS_BLOCK_RANGE: "0" }, "PONDER_ETH_GET_LOGS_BLOCK_RANGE must be between 1 and 10000000, got 0."],
  ])("rejects %o", (env, message) => {
    writeDeployment(JSON.stringify({ chainId: 31337, address: ADDRESS, startBlock: 1 }));
    expect(errorOf(env)).toBe(message);
  });

  test("a missing or broken deployment file names the fix", () => {
    rmSync(path.join(root, "deployments"), { recursive: true, force: true });
    expect(errorOf({})).toBe(
      "CHAMA_ADDRESS is not set and deployments/31337.json does not exist. Run `npm run deploy` (or `npm run dev` for a local chain), or set CHAMA_ADDRESS and CHAMA_START_BLOCK.",
    );
    writeDeployment("{ not json");
    expect(errorOf({})).toMatch(/deployments\/31337\.json is not valid JSON\. Delete it and run `npm run deploy`\.$/);
    writeDeployment(JSON.stringify({ chainId: 1, address: ADDRESS, startBlock: 1 }));
    expect(errorOf({})).toMatch(/must hold \{ chainId: 31337, address, startBlock \}/);
  });
});

describe("start-up against a real chain", () => {
  let chain: Chain;
  let wrongChain: Chain;
  let address: string;

  beforeAll(async () => {
    [chain, wrongChain] = await Promise.all([startChain(), startChain({ chainId: 1 })]);
    address = (await deploy(chain)).address;
  });
  afterAll(async () => {
    await chain?.stop();
    await wrongChain?.stop();
  });

  const baseEnv = () => ({ CHAIN_ID: "31337", PONDER_RPC_URL_31337: chain.rpcUrl, CHAMA_ADDRESS: address, CHAMA_START_BLOCK: "0" });

  test("an RPC serving another chain id stops the indexer with a clear error", async () => {
    const result = await runIndexerToExit({ env: { ...baseEnv(), PONDER_RPC_URL_31337: wrongChain.rpcUrl } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(
      `PONDER_RPC_URL_31337 (${wrongChain.rpcUrl}) serves chain 1, but chain 31337 is configured.`,
    );
    expect(result.databaseFiles).toBe(0);
  });

  test("an unreachable RPC stops the indexer with a clear error", async () => {
    const port = await getFreePort();
    const result = await runIndexerToExit({ env: { ...baseEnv(), PONDER_RPC_URL_31337: `http://127.0.0.1:${port}` } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`Cannot reach the JSON-RPC at http://127.0.0.1:${port} (PONDER_RPC_URL_31337)`);
    expect(result.databaseFiles).toBe(0);
  });

  test("an address without code stops the indexer with a clear error", async () => {
    const empty = "0x000000000000000000000000000000000000dEaD";
    const result = await runIndexerToExit({ env: { ...baseEnv(), CHAMA_ADDRESS: empty } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`No contract at ${empty} on chain 31337 (address from CHAMA_ADDRESS).`);
    expect(result.databaseFiles).toBe(0);
  });

  test("a start block beyond the chain head stops the indexer with a clear error", async () => {
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const result = await runIndexerToExit({ env: { ...baseEnv(), CHAMA_START_BLOCK: "1000000" }, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.output).toContain(
      `The start block 1000000 (from CHAMA_START_BLOCK) is beyond the head of chain 31337 (block ${head}). Set CHAMA_START_BLOCK to the block the contract was deployed in.`,
    );
    expect(result.output).not.toContain("BlockNotFoundError");
    expect(result.databaseFiles).toBe(0);
  });

  /** Connection string of the test cluster with another user or database. */
  const clusterUrl = (change: { user?: string; database?: string }) => {
    const url = new URL(postgresUrl());
    if (change.user) url.username = change.user;
    if (change.database) url.pathname = `/${change.database}`;
    return url;
  };

  test("a DATABASE_URL that never answers stops the indexer within the connect timeout", async () => {
    // Accepts the TCP connection and never says a word: a firewalled or wedged server.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    const port = await getFreePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    try {
      const started = Date.now();
      const result = await runIndexerToExit({ env: { ...baseEnv(), DATABASE_URL: `postgresql://ponder:secret@127.0.0.1:${port}/jenga` }, timeoutMs: 40_000 });
      expect(result.code).toBe(1);
      expect(result.output).toContain(
        `Cannot connect to PostgreSQL at 127.0.0.1:${port} (DATABASE_URL postgresql://ponder@127.0.0.1:${port}/jenga) within 5000 ms: timeout expired. ` +
          "Start PostgreSQL, or fix the host and port in DATABASE_URL (unset it to use the embedded PGlite database).",
      );
      expect(result.output).not.toContain("secret");
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(result.databaseFiles).toBe(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test("a DATABASE_URL with no server behind it stops the indexer with a clear error", async () => {
    const port = await getFreePort();
    const result = await runIndexerToExit({ env: { ...baseEnv(), DATABASE_URL: `postgresql://ponder@127.0.0.1:${port}/jenga` }, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.output).toContain(`Cannot connect to PostgreSQL at 127.0.0.1:${port} (DATABASE_URL postgresql://ponder@127.0.0.1:${port}/jenga) within 5000 ms: connect ECONNREFUSED`);
    expect(result.databaseFiles).toBe(0);
  });

  test("a DATABASE_URL naming a missing database stops the indexer, and creates nothing", async () => {
    const url = clusterUrl({ database: `missing_${process.pid}` });
    const result = await runIndexerToExit({ env: { ...baseEnv(), DATABASE_URL: url.toString() }, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.output).toContain(
      `Database "missing_${process.pid}" does not exist on ${url.host} (DATABASE_URL ${url.toString()}). ` +
        `Create it (\`createdb missing_${process.pid}\`) or fix the database name in DATABASE_URL.`,
    );
    const admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [`missing_${process.pid}`]);
      expect(rows).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  test("a DATABASE_URL with credentials the server refuses stops the indexer, and writes nothing", async () => {
    // The test cluster trusts every password, so an unknown role stands in for a wrong one.
    const url = clusterUrl({ user: "nobody_here" });
    const result = await runIndexerToExit({ env: { ...baseEnv(), DATABASE_URL: url.toString() }, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.output).toContain(
      `PostgreSQL at ${url.host} refused the credentials in DATABASE_URL (${url.toString()}): role "nobody_here" does not exist. ` +
        "Fix the user and password in DATABASE_URL, or create the role (`createuser --pwprompt NAME`).",
    );
    const admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query("SELECT nspname FROM pg_namespace WHERE nspname = 'bad_config'");
      expect(rows).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  test("a malformed variable stops the indexer with a clear error", async () => {
    const result = await runIndexerToExit({ env: { ...baseEnv(), CHAMA_START_BLOCK: "soon" } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('CHAMA_START_BLOCK must be a whole number, got "soon".');
    expect(result.databaseFiles).toBe(0);
  });
});

/** Runs an npm script's entry file with tsx and resolves with its exit code and output. */
function runScript(params: { script: string; args?: string[]; env: Record<string, string> }) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join("scripts", params.script), ...(params.args ?? [])], {
    cwd: projectRoot,
    env: { ...process.env, ...params.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) => child.once("exit", (code) => resolve({ code, output })));
}

describe("npm scripts", () => {
  test("npm start refuses a busy port, naming it", async () => {
    const blocker = net.createServer();
    const port = await getFreePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const result = await runScript({
        script: "start.ts",
        args: ["--port", String(port), "--hostname", "127.0.0.1"],
        env: { CHAIN_ID: "31337", CHAMA_ADDRESS: ADDRESS, CHAMA_START_BLOCK: "0" },
      });
      expect(result.code).toBe(1);
      expect(result.output).toContain(`error: Port ${port} on 127.0.0.1 (the indexer's API) is already in use.`);
    } finally {
      blocker.close();
    }
  });

  test("npm run deploy requires a key off the local chain", async () => {
    const result = await runScript({
      script: "deploy.ts",
      env: { CHAIN_ID: "8453", PONDER_RPC_URL_8453: "http://127.0.0.1:1", DEPLOYER_PRIVATE_KEY: "" },
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain(
      "error: DEPLOYER_PRIVATE_KEY is not set. It is required on chain 8453; the dev key is only used on 31337.",
    );
  });
});
