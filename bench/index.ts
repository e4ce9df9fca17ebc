/**
 * `npm run bench [-- --quick] [-- --only backfill,realtime,reads,reconcile,recovery,bundle] [-- --set VAR=value] [-- --peers]`
 *
 * Runs every benchmark in one process tree against servers it starts itself on 127.0.0.1
 * (anvil, a private PostgreSQL cluster, the real indexer), prints a table and writes
 * bench/results/<date>.json (<date>-quick.json with --quick; a "-custom" suffix with --only or
 * --set). Each figure sits next to a
 * reference measured in the same run. `--set` passes a variable to every indexer it starts, to
 * compare a setting against the defaults (e.g. --set PONDER_RPC_FANOUT=1). `--peers` adds the
 * peer indexers of bench/peers/ (SQD, Envio HyperIndex) to the backfill, on the same chains and
 * PostgreSQL, each checked against the chain's tables (bench/peers.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../scripts/lib/chama";
import { startPostgres } from "../scripts/lib/postgres";
import { BENCH_RPC_FANOUT } from "../config/env";
import { type BackfillResult, runBackfill } from "./backfill";
import { type BundleResult, runBundle } from "./bundle";
import { type ChainSpec, ensureChain } from "./chain";
import { type PeerFailure, type PeerResult, chainTables, compareWithPeers, installPeers, runPeer } from "./peers";
import { type ReadsResult, runReads } from "./reads";
import { type RealtimeResult, runRealtime } from "./realtime";
import { type ReconcileResult, runReconcile } from "./reconcile";
import { type RecoveryResult, runRecovery } from "./recovery";
import { loadAverage } from "./lib/rss";
import { round } from "./lib/stats";
import { JengaError } from "../common/errors";

const SIZES = {
  full: {
    dense: { contributions: 50_000, perBlock: 500, chamas: 500, contributors: 5_000, payoutEvery: 100 },
    // One event per block: anvil slows down as the chain grows, so 10,000 blocks keep the
    // one-off generation within minutes here.
    sparse: { contributions: 10_000, perBlock: 1, chamas: 500, contributors: 5_000, payoutEvery: 100 },
    reads: { contributions: 100_000, perBlock: 1_000, chamas: 10_000, contributors: 20_000, payoutEvery: 100 },
    realtimeSamples: 200,
    readSeconds: 10,
    reconcile: { pending: 10_000, indexed: 100_000 },
  },
  quick: {
    dense: { contributions: 5_000, perBlock: 500, chamas: 100, contributors: 1_000, payoutEvery: 100 },
    sparse: { contributions: 300, perBlock: 1, chamas: 100, contributors: 1_000, payoutEvery: 100 },
    reads: { contributions: 2_000, perBlock: 1_000, chamas: 200, contributors: 500, payoutEvery: 100 },
    realtimeSamples: 30,
    readSeconds: 2,
    reconcile: { pending: 2_000, indexed: 20_000 },
  },
} satisfies Record<
  string,
  { dense: ChainSpec; sparse: ChainSpec; reads: ChainSpec; realtimeSamples: number; readSeconds: number; reconcile: { pending: number; indexed: number } }
>;

const BENCHES = ["backfill", "realtime", "reads", "reconcile", "recovery", "bundle"] as const;
type Bench = (typeof BENCHES)[number];

export class UsageError extends JengaError {
  override name = "UsageError";
  override readonly expected = true;
}

function parseArgs(argv: string[]) {
  let quick = false;
  let peers = false;
  let only: Bench[] = [...BENCHES];
  // The fan-out is on for benchmarks unless --set says otherwise (see BENCHMARKS.md).
  const env: Record<string, string> = { PONDER_RPC_FANOUT: String(BENCH_RPC_FANOUT) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") quick = true;
    else if (arg === "--peers") peers = true;
    else if (arg === "--only") {
      const names = (argv[++i] ?? "").split(",").filter(Boolean);
      const unknown = names.filter((n) => !(BENCHES as readonly string[]).includes(n));
      if (names.length === 0 || unknown.length > 0) throw new UsageError(`--only takes a comma-separated list of ${BENCHES.join(", ")}; got "${names.join(",")}".`);
      only = names as Bench[];
    } else if (arg === "--set") {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(argv[++i] ?? "");
      if (!match) throw new UsageError("--set takes VAR=value, e.g. --set PONDER_RPC_FANOUT=1.");
      env[match[1]!] = match[2]!;
    } else throw new UsageError(`Unknown argument "${arg}". Use --quick, --only LIST, --set VAR=value, --peers.`);
  }
  if (peers && !only.includes("backfill")) throw new UsageError("--peers compares backfills: keep backfill in --only (e.g. --only backfill --peers).");
  return { quick, only, env, peers };
}

const log = (line: string) => console.log(line);

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => String(cell).padEnd(widths[c]!)).join("  ")).join("\n");
}

const ratio = (a: number, b: number) => (b === 0 ? "-" : (a / b).toFixed(2));
const mark = (ok: boolean) => (ok ? "met" : "NOT met");

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? SIZES.quick : SIZES.full;
  const started = Date.now();
  const loadStart = loadAverage();
  log(`Jenga Index benchmarks (${args.quick ? "quick" : "full"}): ${os.cpus().length} cores, load average ${loadStart.join(" ")}`);
  if (Object.keys(args.env).length > 0) log(`Indexer settings: ${JSON.stringify(args.env)}`);

  const cluster = await startPostgres();
  // Stopped once, by whichever comes first: the end of the run, a signal, or a crash (the
  // cluster is a daemon and would outlive this process).
  let stopped = false;
  const postgres = {
    url: cluster.url,
    stop: () => {
      if (stopped) return;
      stopped = true;
      cluster.stop();
    },
  };
  const onSignal = () => {
    postgres.stop();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", postgres.stop);

  const backfill: BackfillResult[] = [];
  const peers: PeerResult[] = [];
  const peerFailures: PeerFailure[] = [];
  let realtime: RealtimeResult | undefined;
  const reads: ReadsResult[] = [];
  let reconcileResult: ReconcileResult | undefined;
  let recovery: { pglite: RecoveryResult; postgres: RecoveryResult } | undefined;
  let bundle: BundleResult | undefined;
  try {
    if (args.only.includes("backfill")) {
      const installed = args.peers ? await installPeers({ log }) : { ready: [], failures: [] };
      peerFailures.push(...installed.failures);
      for (const variant of ["dense", "sparse"] as const) {
        log(`Preparing the ${variant} chain`);
        const chain = await ensureChain({ spec: sizes[variant], log });
        for (const database of ["postgres", "pglite"] as const) {
          backfill.push(await runBackfill({ chain, variant, database, postgresUrl: postgres.url, env: args.env, log }));
        }
        if (installed.ready.length === 0) continue;
        const truth = await chainTables(chain);
        const floorEventsPerSecond = backfill.find((b) => b.variant === variant && b.database === "postgres")!.floorEventsPerSecond;
        for (const peer of installed.ready) {
          try {
            peers.push(await runPeer({ peer, chain, variant, postgresUrl: postgres.url, truth, floorEventsPerSecond, log }));
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            log(`    ${peer.name} failed on the ${variant} chain: ${message}`);
            peerFailures.push({ name: peer.name, variant, error: message });
          }
        }
      }
    }
    if (args.only.includes("realtime")) {
      realtime = await runRealtime({ samples: sizes.realtimeSamples, ratePerSecond: 10, postgresUrl: postgres.url, env: args.env, log });
    }
    if (args.only.includes("reads")) {
      log("Preparing the reads chain");
      const chain = await ensureChain({ spec: sizes.reads, log });
      reads.push(...(await runReads({ chain, postgresUrl: postgres.url, concurrency: 50, seconds: sizes.readSeconds, env: args.env, log })));
    }
    if (args.only.includes("reconcile")) {
      reconcileResult = await runReconcile({ ...sizes.reconcile, log });
    }
    if (args.only.includes("recovery")) {
      log("Crash recovery: SIGKILL during realtime, then a restart on the same storage");
      recovery = await runRecovery({ postgresUrl: postgres.url, env: args.env, log });
    }
    if (args.only.includes("bundle")) bundle = await runBundle({ log });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    postgres.stop();
  }
  const loadEnd = loadAverage();

  const results = {
    machine: {
      cores: os.cpus().length,
      memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
      node: process.version,
      loadAverage: { start: loadStart, end: loadEnd },
    },
    backfill,
    ...(args.peers ? { peers, peerFailures, peerComparison: compareWithPeers({ backfill, peers }) } : {}),
    realtime: realtime
      ? {
          samples: realtime.samples,
          graphqlP50Ms: realtime.graphqlP50Ms,
          graphqlP95Ms: realtime.graphqlP95Ms,
          graphqlP99Ms: realtime.graphqlP99Ms,
          clientP50Ms: realtime.clientP50Ms,
          clientP95Ms: realtime.clientP95Ms,
          clientP99Ms: realtime.clientP99Ms,
          referenceP50Ms: realtime.referenceP50Ms,
        }
      : null,
    reads,
    reconcile: reconcileResult ?? null,
    recovery: recovery ?? null,
    bundle: bundle ?? null,
  };
  const date = new Date().toISOString().slice(0, 10);
  const dir = path.join(projectRoot, "bench", "results");
  mkdirSync(dir, { recursive: true });
  // A subset or changed settings must not overwrite the day's standard results.
  const defaultSetting = ([k, v]: [string, string]) => k === "PONDER_RPC_FANOUT" && v === String(BENCH_RPC_FANOUT);
  const custom = args.only.length < BENCHES.length || !Object.entries(args.env).every(defaultSetting);
  const file = path.join(dir, `${date}${args.quick ? "-quick" : ""}${custom ? "-custom" : ""}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

  log("");
  if (backfill.length > 0) {
    log(table([
      ["backfill", "database", "events", "seconds", "events/s", "floor events/s", "ratio", "peak RSS MiB"],
      ...backfill.map((b) => [b.variant, b.database, b.events, b.seconds, b.eventsPerSecond, b.floorEventsPerSecond, b.ratioToFloor, b.peakRssMiB]),
    ]));
    const dense = backfill.find((b) => b.variant === "dense" && b.database === "postgres");
    if (dense) log(`target dense PostgreSQL >= 5,000 events/s and >= 0.5 of floor: ${mark(dense.eventsPerSecond >= 5_000 && dense.ratioToFloor >= 0.5)}`);
    log("");
  }
  if (args.peers) {
    const project = backfill.filter((b) => b.database === "postgres");
    log(table([
      ["backfill beside peers", "chain", "events", "seconds", "events/s", "ratio to floor", "peak RSS MiB"],
      ...project.map((b) => ["this project", b.variant, b.events, b.seconds, b.eventsPerSecond, b.ratioToFloor, b.peakRssMiB]),
      ...peers.map((p) => [p.name, p.variant, p.events, p.seconds, p.eventsPerSecond, p.ratioToFloor, p.peakRssMiB]),
      ...project.map((b) => ["floor", b.variant, b.events, round(b.events / b.floorEventsPerSecond, 2), b.floorEventsPerSecond, 1, "-"]),
    ]));
    for (const c of compareWithPeers({ backfill, peers })) {
      log(`${c.variant}: this project ${c.projectEventsPerSecond} events/s, best peer ${c.bestPeer} ${c.bestPeerEventsPerSecond}: ratio ${c.projectRatioToBestPeer}`);
    }
    for (const f of peerFailures) log(`${f.name}${f.variant ? ` (${f.variant})` : ""} has no figures: ${f.error.split("\n")[0]}`);
    log("");
  }
  if (realtime) {
    log(table([
      ["realtime", "samples", "p50 ms", "p95 ms", "p99 ms", "30 s poll p50 ms", "p50 ratio", "30 s poll p99 ms"],
      ["GraphQL", realtime.samples, realtime.graphqlP50Ms, realtime.graphqlP95Ms, realtime.graphqlP99Ms, realtime.referenceP50Ms, ratio(realtime.graphqlP50Ms, realtime.referenceP50Ms), realtime.referenceP99Ms],
      ["client store", realtime.samples, realtime.clientP50Ms, realtime.clientP95Ms, realtime.clientP99Ms, realtime.referenceP50Ms, ratio(realtime.clientP50Ms, realtime.referenceP50Ms), realtime.referenceP99Ms],
    ]));
    log(`target GraphQL p50 <= 150 ms and p99 <= 500 ms: ${mark(realtime.graphqlP50Ms <= 150 && realtime.graphqlP99Ms <= 500)}; client store p50 <= 300 ms: ${mark(realtime.clientP50Ms <= 300)}`);
    log("");
  }
  if (reads.length > 0) {
    log(table([
      ["reads", "clients", "GraphQL req/s", "p99 ms", "hits", "CPU ms/req", "uncached req/s", "uncached p99 ms", "uncached CPU ms/req", "SQL req/s", "ratio", "uncached ratio"],
      ...reads.map((r) => [
        r.query, r.concurrency, r.requestsPerSecond, r.p99Ms, `${Math.round(r.cacheHitRatio * 100)}%`, r.cpuMsPerRequest,
        r.uncachedRequestsPerSecond, r.uncachedP99Ms, r.uncachedCpuMsPerRequest,
        r.sqlRequestsPerSecond, ratio(r.requestsPerSecond, r.sqlRequestsPerSecond), ratio(r.uncachedRequestsPerSecond, r.sqlRequestsPerSecond),
      ]),
    ]));
    log(`target within 3x of SQL and p99 < 50 ms: ${mark(reads.every((r) => r.requestsPerSecond * 3 >= r.sqlRequestsPerSecond && r.p99Ms < 50))}`);
    log("");
  }
  if (reconcileResult) {
    const r = reconcileResult;
    log(table([
      ["reconcile", "pending", "indexed", "ms", "naive ms", "speed-up"],
      ["engine pass (resume), IndexedDB store", r.pending, r.indexed, r.ms, r.naiveMs, ratio(r.naiveMs, r.ms)],
      ["  until its write committed", r.pending, r.indexed, r.commitMs, r.naiveMs, ratio(r.naiveMs, r.commitMs)],
      ["engine pass (live), IndexedDB store", r.pending, r.indexed, r.livePassMs, r.naiveMs, ratio(r.naiveMs, r.livePassMs)],
      ["  until its write committed", r.pending, r.indexed, r.liveCommitMs, r.naiveMs, ratio(r.naiveMs, r.liveCommitMs)],
      ["engine pass (resume), earlier localStorage store", r.pending, r.indexed, r.localStorage.ms, r.naiveMs, ratio(r.naiveMs, r.localStorage.ms)],
      ["engine pass (live), earlier localStorage store", r.pending, r.indexed, r.localStorage.livePassMs, r.naiveMs, ratio(r.naiveMs, r.localStorage.livePassMs)],
      ["matching alone", r.pending, r.indexed, r.matchMs, r.naiveMs, ratio(r.naiveMs, r.matchMs)],
    ]));
    log(
      `${r.reconciled} reconciled in ${r.transactions} IndexedDB transaction(s) writing ${r.recordsWritten} record(s) (fake-indexeddb) and ${r.notifications} notification(s); ` +
        `target < 50 ms (engine pass on resume): ${mark(r.ms < 50)}; live: ${mark(r.livePassMs < 50)}`,
    );
    log("");
  }
  if (recovery) {
    log(table([
      ["recovery after SIGKILL", "seconds to new head", "of it start-up", "lock wait"],
      ...[recovery.pglite, recovery.postgres].map((r) => [r.database, r.seconds, r.startupSeconds, r.lockWait ? "yes" : "no"]),
    ]));
    log(`target <= 10 s on both: ${mark(recovery.pglite.seconds <= 10 && recovery.postgres.seconds <= 10)}`);
    log("");
  }
  if (bundle) {
    log(table([
      ["bundle (gzipped JS)", "KiB", "chunks"],
      ["first screen", bundle.firstScreenGzipKiB, bundle.chunks.filter((c) => c.firstScreen).length],
      ["all, lazy included", bundle.totalGzipKiB, bundle.chunks.length],
    ]));
    log(`largest on demand: ${bundle.chunks.filter((c) => !c.firstScreen).slice(0, 4).map((c) => `${c.file} ${round(c.gzipBytes / 1024, 1)} KiB`).join(", ")}`);
    log(`target first screen <= 150 kB (${bundle.budgetGzipKiB} KiB) gzipped: ${mark(bundle.withinBudget)}`);
    log("");
  }
  log(`load average ${loadStart.join(" ")} -> ${loadEnd.join(" ")}; ${((Date.now() - started) / 1000).toFixed(0)} s in all; wrote ${path.relative(projectRoot, file)}`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`error: ${error.message}`);
  else console.error(error);
  process.exitCode = 1;
});
