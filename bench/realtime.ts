/**
 * Realtime latency: contributions sent at a steady rate to an automining anvil while the real
 * indexer runs on PostgreSQL; for each, the time from its receipt to its row being visible over
 * GraphQL. Reference: a classic "poll the chain every 30 s, write to a DB" loop, whose latency
 * is modelled from its loop (a receipt waits for the next poll, uniformly 0-30 s, then one poll
 * cycle, whose duration is measured here on the same chain and database).
 */
import { type Address, type Hex, encodeFunctionData, toHex } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { startAnvil } from "../scripts/lib/anvil";
import { chamaArtifact, devAccounts } from "../scripts/lib/chama";
import { getFreePort } from "../scripts/lib/ports";
import { waitFor } from "../scripts/lib/processes";
import { createDatabase } from "./backfill";
import { runFloor } from "./floor";
import { rpc } from "./lib/jsonrpc";
import { startBenchIndexer } from "./lib/indexer";
import { percentile, round } from "./lib/stats";

export type RealtimeResult = {
  samples: number;
  graphqlP50Ms: number;
  graphqlP95Ms: number;
  graphqlP99Ms: number;
  clientP50Ms: number | null;
  clientP99Ms: number | null;
  referenceP50Ms: number;
  /** Not in the key list: the modelled reference's tail and its measured poll cycle. */
  referenceP99Ms: number;
  referenceCycleMs: number;
};

const POLL_PERIOD_MS = 30_000;
/** anvil's first dev accounts: unlocked, so anvil signs. */
const SENDERS: Address[] = devAccounts(4).map((account) => account.address);

type Receipt = { status: Hex; blockNumber: Hex; contractAddress: Address | null };

async function receiptOf(url: string, hash: Hex): Promise<Receipt> {
  return waitFor({
    what: `the receipt of ${hash}`,
    intervalMs: 2,
    timeoutMs: 30_000,
    check: () => rpc<Receipt | null>(url, "eth_getTransactionReceipt", [hash]).then((r) => r ?? undefined),
  });
}

export async function runRealtime(params: {
  samples: number;
  ratePerSecond: number;
  postgresUrl: string;
  /** Extra variables for the indexer. */
  env?: Record<string, string>;
  log: (line: string) => void;
}): Promise<RealtimeResult> {
  const { log } = params;
  const anvil = await startAnvil({ port: await getFreePort() });
  const url = anvil.rpcUrl;
  const database = await createDatabase(params.postgresUrl);
  try {
    const deployHash = await rpc<Hex>(url, "eth_sendTransaction", [{ from: SENDERS[0], data: chamaArtifact().bytecode, gas: toHex(5_000_000) }]);
    const deployed = await receiptOf(url, deployHash);
    const address = deployed.contractAddress!;
    const startBlock = Number(deployed.blockNumber);
    await receiptOf(url, await rpc<Hex>(url, "eth_sendTransaction", [{
      from: SENDERS[0], to: address, gas: toHex(300_000),
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "createChama", args: ["Realtime", 1n] }),
    }]));

    const indexer = await startBenchIndexer({ rpcUrl: url, address, startBlock, database: { kind: "postgres", url: database.url }, env: params.env });
    try {
      await waitFor({
        what: "the indexer to catch up",
        timeoutMs: 60_000,
        check: async () => {
          const data = await indexer.graphql<{ chamas: { totalCount: number } }>("{ chamas(limit: 1) { totalCount } }");
          return data.chamas.totalCount === 1 ? true : undefined;
        },
      });
      log(`  realtime: ${params.samples} contributions at ${params.ratePerSecond}/s, PostgreSQL`);
      // One watcher polls GraphQL for every row still awaited, one request at a time, so the
      // measurement adds at most one small query per 10 ms to the indexer's load.
      const query = "query($h: [String!]) { contributions(where: { transactionHash_in: $h }, limit: 1000) { items { transactionHash } } }";
      const awaited = new Map<Hex, { receiptAt: number; resolve: () => void }>();
      const latencies: number[] = [];
      let watching = true;
      // A failure (a sample or the watcher) is kept, not left unhandled, so teardown always runs.
      let failure: unknown;
      const watcher = (async () => {
        while (watching) {
          if (awaited.size > 0) {
            const data = await indexer.graphql<{ contributions: { items: { transactionHash: Hex }[] } }>(query, { h: [...awaited.keys()] });
            const seenAt = performance.now();
            for (const { transactionHash } of data.contributions.items) {
              const entry = awaited.get(transactionHash);
              if (!entry) continue;
              awaited.delete(transactionHash);
              latencies.push(seenAt - entry.receiptAt);
              entry.resolve();
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })().catch((error: unknown) => void (failure ??= error));
      const one = async (i: number) => {
        const hash = await rpc<Hex>(url, "eth_sendTransaction", [{
          from: SENDERS[i % SENDERS.length], to: address, gas: toHex(200_000), value: toHex(1_000n + BigInt(i)),
          data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [1n] }),
        }]);
        const receipt = await receiptOf(url, hash);
        if (receipt.status !== "0x1") throw new Error(`contribution ${hash} reverted`);
        const visible = new Promise<void>((resolve) => awaited.set(hash, { receiptAt: performance.now(), resolve }));
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`contribution ${hash} not visible in GraphQL after 30 s`)), 30_000);
        });
        await Promise.race([visible, timeout]).finally(() => clearTimeout(timer));
      };
      const inFlight: Promise<void>[] = [];
      const started = performance.now();
      for (let i = 0; i < params.samples && failure === undefined; i++) {
        const due = started + (i * 1000) / params.ratePerSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        inFlight.push(one(i).catch((error: unknown) => void (failure ??= error)));
      }
      await Promise.all(inFlight);
      watching = false;
      await watcher;
      if (failure !== undefined) {
        log(indexer.logs().slice(-3000));
        throw failure;
      }

      // The reference's poll cycle: fetch the new logs and timestamps, insert the rows.
      const head = Number(await rpc<Hex>(url, "eth_blockNumber"));
      const cycleDatabase = await createDatabase(params.postgresUrl);
      const cycle = await runFloor({
        rpcUrl: url, address, fromBlock: startBlock, toBlock: head, db: { kind: "postgres", url: cycleDatabase.url }, schema: "poll",
      }).finally(cycleDatabase.drop);
      const cycleMs = cycle.seconds * 1000;
      const result: RealtimeResult = {
        samples: latencies.length,
        graphqlP50Ms: round(percentile(latencies, 50)),
        graphqlP95Ms: round(percentile(latencies, 95)),
        graphqlP99Ms: round(percentile(latencies, 99)),
        // The web client's store lives in web/src/sync, which is not in this branch.
        clientP50Ms: null,
        clientP99Ms: null,
        referenceP50Ms: round(0.5 * POLL_PERIOD_MS + cycleMs),
        referenceP99Ms: round(0.99 * POLL_PERIOD_MS + cycleMs),
        referenceCycleMs: round(cycleMs),
      };
      log(`    GraphQL p50 ${result.graphqlP50Ms} ms, p95 ${result.graphqlP95Ms} ms, p99 ${result.graphqlP99Ms} ms; 30 s poll reference p50 ${result.referenceP50Ms} ms`);
      return result;
    } finally {
      await indexer.stop();
    }
  } finally {
    await database.drop();
    await anvil.stop();
  }
}
