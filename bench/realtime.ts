/**
 * Realtime latency: contributions submitted at a steady rate to the web client's own sync core
 * (web/src/sync: SyncEngine, viem chain port with the app's dev wallet, Ponder indexer port with
 * its `@ponder/client` live query), which sends them to an automining anvil while the real
 * indexer runs on PostgreSQL. For each: the time from its receipt being seen to its row being
 * visible over GraphQL, and to the engine's store marking the action reconciled.
 * Reference: a classic "poll the chain every 30 s, write to a DB" loop, whose latency is
 * modelled from its loop (a receipt waits for the next poll, uniformly 0-30 s, then one poll
 * cycle, whose duration is measured here on the same chain and database).
 */
import { type Address, type Hash, type Hex, createPublicClient, encodeFunctionData, http, toHex } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { startAnvil } from "../scripts/lib/anvil";
import { chamaArtifact, devAccounts } from "../scripts/lib/chama";
import { getFreePort } from "../scripts/lib/ports";
import { waitFor } from "../scripts/lib/processes";
import { createDatabase } from "../test/_support/postgres";
import { runFloor } from "./floor";
import { rpc } from "../test/_support/json-rpc";
import { startBenchIndexer } from "./lib/indexer";
import { percentile, round } from "./lib/stats";
import { SyncEngine } from "../web/src/sync/engine";
import { memoryLock } from "../web/src/sync/lock";
import { ponderIndexer } from "../web/src/sync/ponderIndexer";
import { ActionStore, memoryStorage } from "../web/src/sync/store";
import type { Action } from "../web/src/sync/types";
import { viemChain } from "../web/src/sync/viemChain";
import { LOCAL_CHAIN_ID, chainFor } from "../common/chain";
import { type Wallet, devWallet } from "../web/src/wallet";
import { JengaError } from "../common/errors";

export type RealtimeResult = {
  samples: number;
  graphqlP50Ms: number;
  graphqlP95Ms: number;
  graphqlP99Ms: number;
  clientP50Ms: number;
  clientP95Ms: number;
  clientP99Ms: number;
  referenceP50Ms: number;
  /** Not in the key list: the modelled reference's tail and its measured poll cycle. */
  referenceP99Ms: number;
  referenceCycleMs: number;
};

const POLL_PERIOD_MS = 30_000;
/** anvil's first dev account: unlocked, so anvil signs the deployment. */
const DEPLOYER: Address = devAccounts(1)[0]!.address;
/** The web client's dev wallet sends the contributions from anvil account #1. */
const CLIENT_ACCOUNT_INDEX = 1;
const SAMPLE_TIMEOUT_MS = 30_000;

export class RealtimeSampleError extends JengaError {
  override name = "RealtimeSampleError";
}

type Receipt = { status: Hex; blockNumber: Hex; contractAddress: Address | null };

async function receiptOf(url: string, hash: Hex): Promise<Receipt> {
  return waitFor({
    what: `the receipt of ${hash}`,
    intervalMs: 2,
    timeoutMs: 30_000,
    check: () => rpc<Receipt | null>(url, "eth_getTransactionReceipt", [hash]).then((r) => r ?? undefined),
  });
}

/** Rejects with `message` if `promise` has not settled after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RealtimeSampleError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The web app's sync core wired as App.tsx wires it (same adapters, defaults and dev wallet).
 * No browser here: the store keeps its actions in memory and the send lock is in-process, the
 * fallbacks browser.ts itself uses where localStorage or Web Locks are missing. */
function startClient(params: { rpcUrl: string; indexerUrl: string; address: Address }): { engine: SyncEngine; wallet: Wallet } {
  const chain = chainFor({ chainId: LOCAL_CHAIN_ID, rpcUrl: params.rpcUrl });
  const publicClient = createPublicClient({ chain, transport: http(params.rpcUrl, { retryCount: 1, timeout: 10_000 }), cacheTime: 0 });
  const wallet = devWallet({ chain, rpcUrl: params.rpcUrl, index: CLIENT_ACCOUNT_INDEX });
  const engine = new SyncEngine({
    store: new ActionStore({ storage: memoryStorage(), now: Date.now }),
    chain: viemChain({ publicClient, walletClient: wallet.client, address: params.address }),
    indexer: ponderIndexer({ url: params.indexerUrl, chainId: LOCAL_CHAIN_ID }),
    lock: memoryLock(),
  });
  return { engine, wallet };
}

const FAILED: ReadonlySet<Action["status"]> = new Set(["failed", "replaced", "dropped"]);

/** Resolves once the store shows action `id` in a state `done` accepts, with the time of that
 * store change (read inside the store's own change notification); rejects if the action fails,
 * or after `timeoutMs`. */
function whenAction(params: { engine: SyncEngine; id: string; what: string; done: (action: Action) => boolean; timeoutMs: number }): Promise<{ action: Action; at: number }> {
  const { store } = params.engine;
  return new Promise((resolve, reject) => {
    const finish = () => {
      unsubscribe();
      clearTimeout(timer);
    };
    const check = () => {
      const action = store.get(params.id);
      if (action && params.done(action)) {
        const at = performance.now();
        finish();
        resolve({ action, at });
      } else if (action && FAILED.has(action.status)) {
        finish();
        reject(new RealtimeSampleError(`action ${params.id} is ${action.status} (${action.error?.message ?? "no message"}) instead of ${params.what}`));
      }
    };
    const unsubscribe = store.subscribe(check);
    const timer = setTimeout(() => {
      finish();
      const action = store.get(params.id);
      reject(new RealtimeSampleError(
        `action ${params.id} not ${params.what} after ${params.timeoutMs} ms: it is ${action?.status} (engine: ${params.engine.health().lastError ?? "no error"})`,
      ));
    }, params.timeoutMs);
    check();
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
  const database = await createDatabase({ clusterUrl: params.postgresUrl, prefix: "bench" });
  try {
    const deployHash = await rpc<Hex>(url, "eth_sendTransaction", [{ from: DEPLOYER, data: chamaArtifact().bytecode, gas: toHex(5_000_000) }]);
    const deployed = await receiptOf(url, deployHash);
    const address = deployed.contractAddress!;
    const startBlock = Number(deployed.blockNumber);
    await receiptOf(url, await rpc<Hex>(url, "eth_sendTransaction", [{
      from: DEPLOYER, to: address, gas: toHex(300_000),
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "createChama", args: ["Realtime", 1n] }),
    }]));

    const indexer = await startBenchIndexer({ rpcUrl: url, address, startBlock, database: { kind: "postgres", url: database.url }, env: params.env });
    // Stopped before the indexer, so its live stream does not try to reconnect.
    let stopClient: (() => void) | undefined;
    try {
      await waitFor({
        what: "the indexer to catch up",
        timeoutMs: 60_000,
        check: async () => {
          const data = await indexer.graphql<{ chamas: { totalCount: number } }>("{ chamas(limit: 1) { totalCount } }");
          return data.chamas.totalCount === 1 ? true : undefined;
        },
      });
      log(`  realtime: ${params.samples} contributions at ${params.ratePerSecond}/s sent by the web client's sync engine, PostgreSQL`);
      const { engine, wallet } = startClient({ rpcUrl: url, indexerUrl: indexer.url, address });
      stopClient = () => engine.stop();
      await engine.start();
      // One watcher polls GraphQL for every row still awaited, one request at a time, so the
      // measurement adds at most one small query per 10 ms to the indexer's load.
      const query = "query($h: [String!]) { contributions(where: { transactionHash_in: $h }, limit: 1000) { items { transactionHash } } }";
      const awaited = new Map<Hash, (seenAt: number) => void>();
      const graphqlLatencies: number[] = [];
      const clientLatencies: number[] = [];
      let watching = true;
      // A failure (a sample or the watcher) is kept, not left unhandled, so teardown always runs.
      let failure: unknown;
      const watcher = (async () => {
        while (watching) {
          if (awaited.size > 0) {
            const data = await indexer.graphql<{ contributions: { items: { transactionHash: Hash }[] } }>(query, { h: [...awaited.keys()] });
            const seenAt = performance.now();
            for (const { transactionHash } of data.contributions.items) {
              awaited.get(transactionHash)?.(seenAt);
              awaited.delete(transactionHash);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })().catch((error: unknown) => void (failure ??= error));
      const one = async (i: number) => {
        // What a click on "Stack" does in the app: the action is recorded, then the engine sends it.
        const draft = engine.submit({
          account: wallet.address,
          params: { kind: "contribution", chamaId: 1n, amount: 1_000n + BigInt(i) },
        });
        const sent = await whenAction({ engine, id: draft.id, what: "sent", done: (a) => a.hash !== undefined, timeoutMs: SAMPLE_TIMEOUT_MS });
        const hash = sent.action.hash!;
        const reconciled = whenAction({ engine, id: draft.id, what: "reconciled", done: (a) => a.status === "reconciled", timeoutMs: SAMPLE_TIMEOUT_MS });
        const receiptAt = receiptOf(url, hash).then((receipt) => {
          if (receipt.status !== "0x1") throw new RealtimeSampleError(`contribution ${hash} reverted`);
          return performance.now();
        });
        const graphqlMs = receiptAt.then((at) =>
          withTimeout(
            new Promise<number>((resolve) => awaited.set(hash.toLowerCase() as Hash, (seenAt) => resolve(seenAt - at))),
            SAMPLE_TIMEOUT_MS,
            `contribution ${hash} not visible in GraphQL after ${SAMPLE_TIMEOUT_MS} ms`,
          ),
        );
        const clientMs = Promise.all([receiptAt, reconciled]).then(([at, done]) => done.at - at);
        const [g, c] = await Promise.all([graphqlMs, clientMs]);
        graphqlLatencies.push(g);
        clientLatencies.push(c);
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
      // Idle from here on: the poll-cycle measurement below runs without it.
      engine.stop();
      if (failure !== undefined) {
        log(indexer.logs().slice(-3000));
        throw failure;
      }

      // The reference's poll cycle: fetch the new logs and timestamps, insert the rows.
      const head = Number(await rpc<Hex>(url, "eth_blockNumber"));
      const cycleDatabase = await createDatabase({ clusterUrl: params.postgresUrl, prefix: "bench" });
      const cycle = await runFloor({
        rpcUrl: url, address, fromBlock: startBlock, toBlock: head, db: { kind: "postgres", url: cycleDatabase.url }, schema: "poll",
      }).finally(cycleDatabase.drop);
      const cycleMs = cycle.seconds * 1000;
      const result: RealtimeResult = {
        samples: graphqlLatencies.length,
        graphqlP50Ms: round(percentile(graphqlLatencies, 50)),
        graphqlP95Ms: round(percentile(graphqlLatencies, 95)),
        graphqlP99Ms: round(percentile(graphqlLatencies, 99)),
        clientP50Ms: round(percentile(clientLatencies, 50)),
        clientP95Ms: round(percentile(clientLatencies, 95)),
        clientP99Ms: round(percentile(clientLatencies, 99)),
        referenceP50Ms: round(0.5 * POLL_PERIOD_MS + cycleMs),
        referenceP99Ms: round(0.99 * POLL_PERIOD_MS + cycleMs),
        referenceCycleMs: round(cycleMs),
      };
      log(`    GraphQL p50 ${result.graphqlP50Ms} ms, p95 ${result.graphqlP95Ms} ms, p99 ${result.graphqlP99Ms} ms; client store p50 ${result.clientP50Ms} ms, p95 ${result.clientP95Ms} ms, p99 ${result.clientP99Ms} ms; 30 s poll reference p50 ${result.referenceP50Ms} ms`);
      return result;
    } finally {
      stopClient?.();
      await indexer.stop();
    }
  } finally {
    await database.drop();
    await anvil.stop();
  }
}
