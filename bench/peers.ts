/**
 * Peers (`npm run bench -- --peers`): the indexers a user would pick instead, each building the
 * same six tables from the same anvil chain into the same PostgreSQL cluster (a database of its
 * own), timed from spawn until its raw-event tables are complete, with the process tree's peak
 * RSS. Its tables are then compared with the chain's ground truth; a peer whose tables differ
 * gets no numbers.
 *
 * Each peer lives in bench/peers/<name>/ with its own package.json and lockfile, installed here
 * on first use (and again when its lockfile changes), never by the project's `npm install`.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { type Address, createPublicClient, http } from "viem";
import { JengaError } from "../common/errors";
import { LOCAL_CHAIN_ID, chainFor } from "../common/chain";
import { projectRoot } from "../scripts/lib/chama";
import { waitFor } from "../scripts/lib/processes";
import { createDatabase } from "../test/_support/postgres";
import { type Tables, expectedTables } from "../test/_support/truth";
import { type CachedChain, loadChain } from "./chain";
import { type BackfillResult } from "./backfill";
import { sampleRss } from "./lib/rss";
import { round } from "./lib/stats";
import { type TableNaming, compareTables, countsQuery, describeDifferences, entityNaming, readTables, snakeCaseNaming } from "./lib/tables";

const run = promisify(execFile);

export const PEERS_DIR = path.join(projectRoot, "bench", "peers");

/** The shape `peers` takes in bench/results/<date>.json. */
export type PeerResult = {
  name: string;
  variant: "dense" | "sparse";
  database: "postgres";
  events: number;
  seconds: number;
  eventsPerSecond: number;
  ratioToFloor: number;
  peakRssMiB: number;
};

/** A peer that could not be installed, could not index a chain, or built different tables. */
export type PeerFailure = { name: string; variant?: "dense" | "sparse"; error: string };

/** Per chain: this project's events/s on PostgreSQL beside the fastest peer's. */
export type PeerComparison = {
  variant: "dense" | "sparse";
  projectEventsPerSecond: number;
  bestPeer: string;
  bestPeerEventsPerSecond: number;
  /** This project's events/s over the best peer's: above 1 means ahead. */
  projectRatioToBestPeer: number;
};

export class PeerError extends JengaError {
  override name = "PeerError";
}

/** A peer's figures from one timed run, rounded like the backfill results. */
export function peerResult(params: {
  name: string;
  variant: "dense" | "sparse";
  events: number;
  seconds: number;
  peakRssMiB: number;
  floorEventsPerSecond: number;
}): PeerResult {
  const eventsPerSecond = params.events / params.seconds;
  return {
    name: params.name,
    variant: params.variant,
    database: "postgres",
    events: params.events,
    seconds: round(params.seconds, 2),
    eventsPerSecond: round(eventsPerSecond),
    ratioToFloor: params.floorEventsPerSecond > 0 ? round(eventsPerSecond / params.floorEventsPerSecond, 3) : 0,
    peakRssMiB: round(params.peakRssMiB),
  };
}

/** For each chain with both a PostgreSQL backfill of this project and at least one peer: the
 * project against the fastest peer. */
export function compareWithPeers(params: { backfill: BackfillResult[]; peers: PeerResult[] }): PeerComparison[] {
  const out: PeerComparison[] = [];
  for (const variant of ["dense", "sparse"] as const) {
    const project = params.backfill.find((b) => b.variant === variant && b.database === "postgres");
    const best = params.peers.filter((p) => p.variant === variant).sort((a, b) => b.eventsPerSecond - a.eventsPerSecond)[0];
    if (!project || !best) continue;
    out.push({
      variant,
      projectEventsPerSecond: project.eventsPerSecond,
      bestPeer: best.name,
      bestPeerEventsPerSecond: best.eventsPerSecond,
      projectRatioToBestPeer: round(project.eventsPerSecond / best.eventsPerSecond, 3),
    });
  }
  return out;
}

type ChainTarget = { rpcUrl: string; address: Address; startBlock: number };

type Peer = {
  name: string;
  dir: string;
  naming: TableNaming;
  /** Installs the peer's dependencies and builds it, once per bench run. */
  install: (log: (line: string) => void) => Promise<void>;
  /** Work for one chain that a user does once, before indexing (code generation). Not timed. */
  prepare: (target: ChainTarget, log: (line: string) => void) => Promise<void>;
  /** Starts indexing into an empty database: timed from here. */
  spawn: (params: ChainTarget & { databaseUrl: string }) => ChildProcess;
};

/** Runs a command in a peer's directory with its output captured; the error carries the tail. */
async function sh(params: { dir: string; command: string; args: string[]; env?: NodeJS.ProcessEnv; what: string }): Promise<void> {
  try {
    await run(params.command, params.args, { cwd: params.dir, env: params.env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const tail = `${e.stdout ?? ""}\n${e.stderr ?? ""}`.trim().slice(-3000);
    throw new PeerError(`${params.what} failed (${params.command} ${params.args.join(" ")} in ${path.relative(projectRoot, params.dir)}):\n${tail || e.message}`, { cause: error });
  }
}

/** `npm ci` in `dir` unless node_modules was installed from this very lockfile. */
async function npmCi(dir: string, log: (line: string) => void): Promise<void> {
  const lock = readFileSync(path.join(dir, "package-lock.json"));
  const hash = createHash("sha256").update(lock).digest("hex");
  const stamp = path.join(dir, "node_modules", ".jenga-lock-sha256");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  log(`    npm ci in ${path.relative(projectRoot, dir)} (first use or a changed lockfile)`);
  await sh({ dir, command: "npm", args: ["ci", "--no-audit", "--no-fund"], what: "Installing the peer" });
  writeFileSync(stamp, hash);
}

/** Spawns a peer in its own process group, so stopping it stops whatever it started. */
function spawnPeer(params: { dir: string; command: string; args: string[]; env: Record<string, string> }): ChildProcess {
  return spawn(params.command, params.args, {
    cwd: params.dir,
    env: { ...process.env, ...params.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}

const sqdDir = path.join(PEERS_DIR, "sqd");
const sqd: Peer = {
  name: "sqd",
  dir: sqdDir,
  naming: snakeCaseNaming(),
  install: async (log) => {
    await npmCi(sqdDir, log);
    await sh({ dir: sqdDir, command: "npm", args: ["run", "build"], what: "Building the SQD squid" });
  },
  prepare: async () => {},
  // The squid's own start: apply the committed migration, then run the processor.
  spawn: (params) =>
    spawnPeer({
      dir: sqdDir,
      command: "sh",
      args: ["-c", "node_modules/.bin/squid-typeorm-migration apply && exec node lib/main.js"],
      env: {
        DB_URL: params.databaseUrl,
        RPC_URL: params.rpcUrl,
        CHAMA_ADDRESS: params.address,
        CHAMA_START_BLOCK: String(params.startBlock),
        SQD_WARN: "*",
      },
    }),
};

const envioDir = path.join(PEERS_DIR, "envio");
/** The envio peer's own pnpm first on PATH: without one, envio codegen installs pnpm globally. */
const envioEnv = () => ({ ...process.env, PATH: `${path.join(envioDir, "tools", "node_modules", ".bin")}:${path.join(envioDir, "node_modules", ".bin")}:${process.env.PATH ?? ""}` });
const envio: Peer = {
  name: "envio",
  dir: envioDir,
  naming: entityNaming(),
  install: async (log) => {
    await npmCi(path.join(envioDir, "tools"), log);
    log("    pnpm install in bench/peers/envio");
    await sh({ dir: envioDir, command: "pnpm", args: ["install", "--frozen-lockfile"], env: envioEnv(), what: "Installing the Envio indexer" });
  },
  // HyperIndex reads its RPC endpoint, address and start block from config.yaml at codegen time.
  prepare: async (target, log) => {
    const config = readFileSync(path.join(envioDir, "config.template.yaml"), "utf8")
      .replaceAll("{{RPC_URL}}", target.rpcUrl)
      .replaceAll("{{CHAMA_ADDRESS}}", target.address)
      .replaceAll("{{START_BLOCK}}", String(target.startBlock));
    writeFileSync(path.join(envioDir, "config.yaml"), config);
    const started = performance.now();
    await sh({ dir: envioDir, command: "pnpm", args: ["codegen"], env: envioEnv(), what: "envio codegen" });
    log(`    envio codegen: ${((performance.now() - started) / 1000).toFixed(1)} s (not timed)`);
  },
  spawn: (params) => {
    const url = new URL(params.databaseUrl);
    // `envio start` itself rather than the `pnpm start` script around it: one wrapper fewer.
    return spawnPeer({
      dir: envioDir,
      command: path.join(envioDir, "node_modules", ".bin", "envio"),
      args: ["start"],
      env: {
        ...(envioEnv() as Record<string, string>),
        ENVIO_PG_HOST: url.hostname,
        ENVIO_PG_PORT: url.port,
        ENVIO_PG_USER: decodeURIComponent(url.username),
        ENVIO_PG_PASSWORD: decodeURIComponent(url.password) || "unused",
        ENVIO_PG_DATABASE: url.pathname.slice(1),
        // No Hasura (a separate GraphQL server), no terminal UI, warnings only.
        ENVIO_HASURA: "false",
        TUI_OFF: "true",
        LOG_LEVEL: "warn",
      },
    });
  },
};

export const PEERS: readonly Peer[] = [sqd, envio];

/** Stops a peer's whole process group: SIGTERM, then SIGKILL after `graceMs`. */
async function stopPeer(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      // The group has already gone.
    }
  };
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
  // Children that outlive the group leader (a start script's node) get the same end.
  signal("SIGKILL");
}

/** Installs every peer; returns those that installed and the failures of the others. */
export async function installPeers(params: { log: (line: string) => void }): Promise<{ ready: Peer[]; failures: PeerFailure[] }> {
  const ready: Peer[] = [];
  const failures: PeerFailure[] = [];
  for (const peer of PEERS) {
    params.log(`Installing the ${peer.name} peer`);
    const started = performance.now();
    try {
      await peer.install(params.log);
      ready.push(peer);
      params.log(`  ${peer.name} ready (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      params.log(`  ${peer.name} could not be installed: ${message}`);
      failures.push({ name: peer.name, error: message });
    }
  }
  return { ready, failures };
}

/** The chain's own tables, folded from its logs (test/_support/truth.ts). */
export async function chainTables(chain: CachedChain): Promise<Tables> {
  const anvil = await loadChain(chain);
  try {
    // All of a chain's logs in one eth_getLogs answer: 35 MB for the dense chain, past viem's
    // default 10 MB limit on a response.
    const publicClient = createPublicClient({
      chain: chainFor({ chainId: LOCAL_CHAIN_ID, rpcUrl: anvil.rpcUrl }),
      transport: http(anvil.rpcUrl, { timeout: 300_000, maxResponseBodySize: false }),
      cacheTime: 0,
    });
    return await expectedTables({ chain: { publicClient }, address: chain.meta.address, fromBlock: BigInt(chain.meta.startBlock), toBlock: BigInt(chain.meta.headBlock) });
  } finally {
    await anvil.stop();
  }
}

/** Indexes one chain with one peer and checks its tables; returns its figures. */
export async function runPeer(params: {
  peer: Peer;
  chain: CachedChain;
  variant: "dense" | "sparse";
  postgresUrl: string;
  truth: Tables;
  floorEventsPerSecond: number;
  log: (line: string) => void;
  timeoutMs?: number;
}): Promise<PeerResult> {
  const { peer, chain, log } = params;
  const { meta } = chain;
  const anvil = await loadChain(chain);
  const database = await createDatabase({ clusterUrl: params.postgresUrl, prefix: `bench_${peer.name}` });
  const client = new pg.Client({ connectionString: database.url });
  try {
    const target = { rpcUrl: anvil.rpcUrl, address: meta.address, startBlock: meta.startBlock };
    await peer.prepare(target, log);
    await client.connect();
    log(`  ${params.variant}/postgres: ${peer.name} (${meta.counts.events} events)`);

    const started = performance.now();
    const child = peer.spawn({ ...target, databaseUrl: database.url });
    let output = "";
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const rss = sampleRss(child.pid!);
    let seconds: number;
    let peakRssMiB: number;
    try {
      let lastProgress = performance.now();
      await waitFor({
        what: `${peer.name} to store all ${meta.counts.events} events`,
        timeoutMs: params.timeoutMs ?? 900_000,
        intervalMs: 50,
        failFast: () => {
          if (child.exitCode !== null) throw new PeerError(`${peer.name} exited with code ${child.exitCode}:\n${output.slice(-4000)}`);
        },
        check: async () => {
          const seen = (await client.query<{ chamas: number; contributions: number; payouts: number }>(countsQuery(peer.naming))).rows[0]!;
          if (performance.now() - lastProgress > 3_000) {
            lastProgress = performance.now();
            log(`    ${seen.chamas + seen.contributions + seen.payouts}/${meta.counts.events} events stored (${((performance.now() - started) / 1000).toFixed(0)} s)`);
          }
          const done = seen.chamas === meta.counts.chamas && seen.contributions === meta.counts.contributions && seen.payouts === meta.counts.payouts;
          return done ? true : undefined;
        },
      });
      seconds = (performance.now() - started) / 1000;
      peakRssMiB = rss.stop();
    } catch (error) {
      rss.stop();
      log(output.slice(-3000));
      throw error;
    } finally {
      await stopPeer(child);
    }

    const differences = compareTables({ expected: params.truth, actual: await readTables({ client, naming: peer.naming }) });
    if (differences.length > 0) {
      throw new PeerError(`${peer.name}'s tables differ from the chain's on the ${params.variant} chain, so its figures do not count:\n${describeDifferences(differences)}`);
    }
    const result = peerResult({ name: peer.name, variant: params.variant, events: meta.counts.events, seconds, peakRssMiB, floorEventsPerSecond: params.floorEventsPerSecond });
    log(`    ${peer.name}: ${result.seconds} s, ${result.eventsPerSecond} events/s (${result.ratioToFloor} of the floor), peak RSS ${result.peakRssMiB} MiB; tables equal the chain's`);
    return result;
  } finally {
    await client.end().catch(() => {});
    await database.drop();
    await anvil.stop();
  }
}
