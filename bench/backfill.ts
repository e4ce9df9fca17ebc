/**
 * Backfill benchmark: the real indexer against the floor (bench/floor.ts), on the same chain
 * and the same database engine, in the same run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type CachedChain, loadChain } from "./chain";
import { runFloor } from "./floor";
import { type BenchDatabase, timeBackfill } from "./lib/indexer";
import { round } from "./lib/stats";
import { createDatabase } from "../test/_support/postgres";

export type BackfillResult = {
  variant: "dense" | "sparse";
  database: "pglite" | "postgres";
  events: number;
  seconds: number;
  eventsPerSecond: number;
  floorEventsPerSecond: number;
  ratioToFloor: number;
  peakRssMiB: number;
};

/** Times the indexer and the floor over one cached chain on one database engine. */
export async function runBackfill(params: {
  chain: CachedChain;
  variant: "dense" | "sparse";
  database: "pglite" | "postgres";
  postgresUrl: string;
  env?: Record<string, string>;
  log: (line: string) => void;
}): Promise<BackfillResult> {
  const { chain, log } = params;
  const { meta } = chain;
  const anvil = await loadChain(chain);
  try {
    log(`  ${params.variant}/${params.database}: indexer (${meta.counts.events} events, ${meta.lastEventBlock - meta.startBlock + 1} blocks)`);
    let database: BenchDatabase = { kind: "pglite" };
    let drop = async () => {};
    if (params.database === "postgres") {
      const created = await createDatabase({ clusterUrl: params.postgresUrl, prefix: "bench" });
      database = { kind: "postgres", url: created.url };
      drop = created.drop;
    }
    const indexed = await timeBackfill({
      rpcUrl: anvil.rpcUrl,
      address: meta.address,
      startBlock: meta.startBlock,
      lastEventBlock: meta.lastEventBlock,
      expected: { chamas: meta.counts.chamas, contributions: meta.counts.contributions, payouts: meta.counts.payouts },
      database,
      env: params.env,
      log,
    }).finally(drop);
    log(
      `    indexer: ${indexed.seconds.toFixed(2)} s (${indexed.startupSeconds.toFixed(1)} s of it start-up), ` +
        `${round(meta.counts.events / indexed.seconds)} events/s, peak RSS ${round(indexed.peakRssMiB)} MiB`,
    );

    log(`  ${params.variant}/${params.database}: floor`);
    let floor: { events: number; seconds: number };
    if (params.database === "postgres") {
      const created = await createDatabase({ clusterUrl: params.postgresUrl, prefix: "bench" });
      floor = await runFloor({
        rpcUrl: anvil.rpcUrl, address: meta.address, fromBlock: meta.startBlock, toBlock: meta.headBlock,
        db: { kind: "postgres", url: created.url }, schema: "floor",
      }).finally(created.drop);
    } else {
      const directory = mkdtempSync(path.join(os.tmpdir(), "jenga-bench-floor-"));
      floor = await runFloor({
        rpcUrl: anvil.rpcUrl, address: meta.address, fromBlock: meta.startBlock, toBlock: meta.headBlock,
        db: { kind: "pglite", directory }, schema: "floor",
      }).finally(() => rmSync(directory, { recursive: true, force: true }));
    }
    if (floor.events !== meta.counts.events) throw new Error(`floor saw ${floor.events} events, expected ${meta.counts.events}`);
    const eventsPerSecond = meta.counts.events / indexed.seconds;
    const floorEventsPerSecond = floor.events / floor.seconds;
    log(`    floor: ${floor.seconds.toFixed(2)} s, ${round(floorEventsPerSecond)} events/s; ratio ${(eventsPerSecond / floorEventsPerSecond).toFixed(3)}`);
    return {
      variant: params.variant,
      database: params.database,
      events: meta.counts.events,
      seconds: round(indexed.seconds, 2),
      eventsPerSecond: round(eventsPerSecond),
      floorEventsPerSecond: round(floorEventsPerSecond),
      ratioToFloor: round(eventsPerSecond / floorEventsPerSecond, 3),
      peakRssMiB: round(indexed.peakRssMiB),
    };
  } finally {
    await anvil.stop();
  }
}
