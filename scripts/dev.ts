/**
 * The main job, one command: starts anvil (chain 31337, 1 s blocks), deploys Chama, seeds demo
 * data, clears Ponder's stale sync cache for the new chain, runs the indexer with its API and
 * serves the web app. Ctrl-C stops everything it started.
 *
 *   npm run dev [-- --anvil-port 8545] [--port 42069] [--web-port 5173]
 *
 * Each port comes from its flag, else from ANVIL_PORT, PORT or WEB_PORT, else the default.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createTestClient, http } from "viem";
import { LOCAL_CHAIN_ID, chainFor } from "../common/chain";
import { postGraphQL } from "../common/graphql";
import { ConfigError, type LedgerEnv, loadEnv, loadLedgerEnv } from "../config/env";
import { type Anvil, startAnvil } from "./lib/anvil";
import { deployChama, devAccounts, projectRoot, writeDeployment } from "./lib/chama";
import { runMain } from "./lib/main";
import { spawnPonder } from "./lib/ponder";
import { assertPortFree } from "./lib/ports";
import { stopProcess, waitFor } from "./lib/processes";
import { type WebServer, startWeb } from "./lib/web";
import { printProgress, seedDemo } from "./seed";

const HOST = "127.0.0.1";
const HISTORY_DAYS = 14n;

type PortSetting = { port: number; /** How to choose another: the flag or variable it came from, or both. */ setting: string };

/** A port from its flag, else its environment variable, else the default. */
function portSetting(params: { flag: string; flagValue: string | undefined; variable: string; fallback: number }): PortSetting {
  const { flag, flagValue, variable, fallback } = params;
  const envValue = process.env[variable];
  const [raw, setting] =
    flagValue !== undefined ? [flagValue, flag] : envValue !== undefined && envValue !== "" ? [envValue, variable] : [undefined, `${flag} or ${variable}`];
  if (raw === undefined) return { port: fallback, setting };
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65_535) {
    throw new ConfigError(`${setting} must be a port number between 1 and 65535, got "${raw}".`);
  }
  return { port, setting };
}

/** Drops what Ponder cached about the previous local chain, and the transaction ledger's
 * records of it: the new chain invalidates both (a record of a dead chain's transaction would be
 * followed, and rebroadcast, on the new one). */
async function clearSyncCache(databaseUrl: string | undefined, pgliteDirectory: string, ledger: LedgerEnv) {
  if (!databaseUrl) {
    rmSync(pgliteDirectory, { recursive: true, force: true });
    rmSync(ledger.pgliteDirectory, { recursive: true, force: true });
    const shown = (directory: string) => path.relative(projectRoot, directory) || directory;
    return `removed ${shown(pgliteDirectory)} and ${shown(ledger.pgliteDirectory)}`;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("DROP SCHEMA IF EXISTS ponder_sync CASCADE");
    await client.query(`DROP SCHEMA IF EXISTS "${ledger.schema}" CASCADE`);
  } finally {
    await client.end();
  }
  return `dropped schemas ponder_sync and ${ledger.schema}`;
}

let anvil: Anvil | undefined;
let ponder: ChildProcess | undefined;
let web: WebServer | undefined;
let stopping = false;

async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  if (web) await web.close();
  if (ponder) await stopProcess(ponder);
  if (anvil) await anvil.stop();
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping the web app, the indexer and anvil…`);
    void stopAll(0);
  });
}

await runMain(async () => {
  const { values } = parseArgs({
    options: { "anvil-port": { type: "string" }, port: { type: "string" }, "web-port": { type: "string" } },
  });
  const anvilSetting = portSetting({ flag: "--anvil-port", flagValue: values["anvil-port"], variable: "ANVIL_PORT", fallback: 8545 });
  const apiSetting = portSetting({ flag: "--port", flagValue: values.port, variable: "PORT", fallback: 42069 });
  const webSetting = portSetting({ flag: "--web-port", flagValue: values["web-port"], variable: "WEB_PORT", fallback: 5173 });
  const [anvilPort, apiPort, webPort] = [anvilSetting.port, apiSetting.port, webSetting.port];
  await assertPortFree({ port: anvilPort, host: HOST, what: "anvil", variable: anvilSetting.setting });
  await assertPortFree({ port: apiPort, host: HOST, what: "the indexer's API", variable: apiSetting.setting });
  await assertPortFree({ port: webPort, host: HOST, what: "the web app", variable: webSetting.setting });

  // Start the chain's clock in the past so the seeded history spans several days.
  const genesis = BigInt(Math.floor(Date.now() / 1000)) - HISTORY_DAYS * 86_400n;
  console.log(`Starting anvil on ${HOST}:${anvilPort} (chain ${LOCAL_CHAIN_ID})…`);
  anvil = await startAnvil({ port: anvilPort, host: HOST, timestamp: genesis });
  anvil.process.once("exit", (code) => {
    if (!stopping) {
      console.error(`anvil exited unexpectedly (code ${code}).`);
      void stopAll(1);
    }
  });

  const [deployer] = devAccounts(1);
  const deployment = await deployChama({ chainId: LOCAL_CHAIN_ID, rpcUrl: anvil.rpcUrl, account: deployer! });
  writeDeployment({ root: projectRoot, deployment });
  console.log(`Chama deployed at ${deployment.address} (block ${deployment.startBlock}).`);

  console.log("Seeding demo data…");
  const seeded = await seedDemo({ rpcUrl: anvil.rpcUrl, address: deployment.address, onProgress: printProgress });
  console.log(`Seeded ${seeded.chamas} chamas, ${seeded.contributions} contributions, ${seeded.payouts} payouts.`);

  // From now on the chain ticks like a real one: a block every second at wall-clock time.
  const testClient = createTestClient({ chain: chainFor({ chainId: LOCAL_CHAIN_ID, rpcUrl: anvil.rpcUrl }), mode: "anvil", transport: http(anvil.rpcUrl) });
  await testClient.setNextBlockTimestamp({ timestamp: BigInt(Math.floor(Date.now() / 1000)) });
  await testClient.mine({ blocks: 1 });
  await testClient.setIntervalMining({ interval: 1 });

  const env = loadEnv({ root: projectRoot, env: { ...process.env, PONDER_RPC_URL_31337: anvil.rpcUrl, CHAIN_ID: "" } });
  const ledger = loadLedgerEnv({ root: projectRoot });
  console.log(`New chain: ${await clearSyncCache(env.databaseUrl, env.pgliteDirectory, ledger)}.`);

  console.log("Starting the indexer (ponder dev)…");
  ponder = spawnPonder({
    args: ["dev", "--disable-ui", "--port", String(apiPort), "--hostname", HOST],
    // Ponder logs every block at "info"; keep the terminal readable unless asked otherwise.
    env: { PONDER_RPC_URL_31337: anvil.rpcUrl, CHAIN_ID: String(LOCAL_CHAIN_ID), PONDER_LOG_LEVEL: process.env.PONDER_LOG_LEVEL ?? "warn" },
  });
  ponder.once("exit", (code) => {
    if (!stopping) {
      console.error(`The indexer exited (code ${code}).`);
      void stopAll(code ?? 1);
    }
  });

  const graphqlUrl = `http://${HOST}:${apiPort}/graphql`;
  await waitFor({
    what: "the indexer to serve the seeded chamas",
    timeoutMs: 180_000,
    intervalMs: 250,
    check: async () => {
      const body = await postGraphQL<{ chamas: { totalCount: number }; contributions: { totalCount: number } }>({
        url: graphqlUrl,
        query: "{ chamas { totalCount } contributions { totalCount } }",
      });
      return body.data && body.data.contributions.totalCount >= seeded.contributions ? true : undefined;
    },
  });
  web = await startWeb({
    port: webPort,
    host: HOST,
    variable: webSetting.setting,
    config: { indexerUrl: `http://${HOST}:${apiPort}`, rpcUrl: anvil.rpcUrl, chainId: LOCAL_CHAIN_ID, chamaAddress: deployment.address },
  });
  console.log(`
Jenga Index is up.
  Web app   ${web.url}   (dev wallet with anvil's test accounts)
  GraphQL   ${graphqlUrl}   (open it in a browser for GraphiQL)
  SQL       http://${HOST}:${apiPort}/sql/*   (@ponder/client)
  Health    http://${HOST}:${apiPort}/health · /ready · /status · /metrics
  Chain     ${anvil.rpcUrl}   (chain ${LOCAL_CHAIN_ID}, Chama ${deployment.address})
Indexer logs are at level ${process.env.PONDER_LOG_LEVEL ?? "warn"} (set PONDER_LOG_LEVEL=info for every block).
Press Ctrl-C to stop.`);
});

if (process.exitCode) await stopAll(Number(process.exitCode));
