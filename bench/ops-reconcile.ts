/**
 * Measures what one reconciliation costs: generates a data set on a private anvil (chamas,
 * distinct members, contributions, payouts, packed into dense blocks), indexes it with the real
 * `ponder start`, runs POST /reconcile a few times and prints time, rows, logs, RPC calls and
 * HTTP requests, then extrapolates each phase linearly to 10,000 chamas, 100,000 members and
 * 1,000,000 events (ten contributions per member).
 *
 *   npm run bench:reconcile -- [--chamas 200] [--members 2000] [--contributions 4000] [--runs 3] [--mine-after 35]
 *
 * PGlite by default; with JENGA_TEST_DATABASE_URL set, on that PostgreSQL (a test cluster: its
 * ponder_sync schema is dropped first).
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { encodeFunctionData, numberToHex } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import type { ReconcileReport } from "../common/ops-api";
import { rpc, rpcBatch } from "../test/_support/json-rpc";
import { ADMIN_TOKEN, postReconcile, startIndexer } from "../test/_support/indexer";
import { SAT } from "../common/chain";
import { deploy, startChain } from "../test/_support/chain";

const { values } = parseArgs({
  options: {
    chamas: { type: "string", default: "200" },
    members: { type: "string", default: "2000" },
    contributions: { type: "string", default: "4000" },
    runs: { type: "string", default: "3" },
    /** Blocks to mine after the data, so it is backfilled (older than the 30-block finality). */
    "mine-after": { type: "string", default: "35" },
  },
});
const CHAMAS = Number(values.chamas);
const MEMBERS = Number(values.members);
const CONTRIBUTIONS = Number(values.contributions);
const RUNS = Number(values.runs);
const ACCOUNTS = Math.ceil(MEMBERS / CHAMAS);
if (CONTRIBUTIONS < MEMBERS) throw new Error("--contributions must be at least --members (each member contributes once)");

const chain = await startChain({ args: ["--accounts", String(ACCOUNTS + 1), "--balance", "1000000000"] });
try {
  const { address, startBlock } = await deploy(chain);
  const from = await rpc<`0x${string}`[]>(chain.rpcUrl, "eth_accounts");

  /** Sends transactions as JSON-RPC batches of eth_sendTransaction (anvil's unlocked accounts),
   * mining one dense block per batch. */
  const nonces = new Map<string, number>();
  async function sendAll(txs: { from: `0x${string}`; data: `0x${string}`; value: bigint }[]) {
    await chain.testClient.setAutomine(false);
    for (const tx of txs) {
      if (!nonces.has(tx.from)) nonces.set(tx.from, await chain.publicClient.getTransactionCount({ address: tx.from, blockTag: "pending" }));
    }
    for (let i = 0; i < txs.length; i += 500) {
      await rpcBatch(
        chain.rpcUrl,
        txs.slice(i, i + 500).map((tx) => ({
          method: "eth_sendTransaction",
          params: [{ from: tx.from, to: address, data: tx.data, value: numberToHex(tx.value), gas: numberToHex(300_000n), nonce: numberToHex(next(tx.from)) }],
        })),
      );
      await chain.testClient.mine({ blocks: 1 });
    }
    await chain.testClient.setAutomine(true);
  }

  function next(account: string): number {
    const n = nonces.get(account)!;
    nonces.set(account, n + 1);
    return n;
  }

  const started = Date.now();
  await sendAll(Array.from({ length: CHAMAS }, (_, i) => ({ from: from[0]!, data: encodeFunctionData({ abi: ChamaAbi, functionName: "createChama", args: [`Chama ${i + 1}`, 0n] }), value: 0n })));
  const contributions = Array.from({ length: CONTRIBUTIONS }, (_, i) => {
    const m = i < MEMBERS ? i : (i * 7919) % MEMBERS;
    const chamaId = BigInt((m % CHAMAS) + 1);
    return { from: from[1 + Math.floor(m / CHAMAS)]!, data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [chamaId] }), value: BigInt(1 + (i % 50)) * 1_000n * SAT };
  });
  await sendAll(contributions);
  const payouts = Math.floor(CHAMAS / 2);
  await sendAll(Array.from({ length: payouts }, (_, i) => ({ from: from[0]!, data: encodeFunctionData({ abi: ChamaAbi, functionName: "payout", args: [BigInt(i + 1), from[1]!, 1_000n * SAT] }), value: 0n })));
  if (Number(values["mine-after"]) > 0) await chain.testClient.mine({ blocks: Number(values["mine-after"]) });
  const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
  console.log(`generated ${CHAMAS} chamas, ${MEMBERS} members, ${CONTRIBUTIONS} contributions, ${payouts} payouts up to block ${head} in ${Date.now() - started} ms`);

  const database = process.env.JENGA_TEST_DATABASE_URL ? "postgres" : "pglite";
  if (database === "postgres") {
    // A new anvil replays the same transaction hashes with new timestamps: Ponder's sync cache from
    // an earlier run would feed the indexer stale logs (the reconciler catches exactly that).
    const client = new pg.Client({ connectionString: process.env.JENGA_TEST_DATABASE_URL });
    await client.connect();
    await client.query("DROP SCHEMA IF EXISTS ponder_sync CASCADE");
    await client.end();
  }
  const indexStarted = Date.now();
  const indexer = await startIndexer({ chain, address, startBlock, database, env: { ADMIN_TOKEN } });
  try {
    await indexer.waitForBlock(head, 600_000);
    console.log(`indexed on ${database} in ${Date.now() - indexStarted} ms`);
    const reports: ReconcileReport[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { status, body } = await postReconcile(indexer.url, ADMIN_TOKEN);
      if (status !== 200 || !body.ok) {
        const warnings = indexer.logs().split("\n").filter((line) => /WARN|ERROR/.test(line));
        throw new Error(`reconcile failed (${status}): ${JSON.stringify({ ...body, discrepancies: body.discrepancies?.slice(0, 3) })}\nindexer warnings:\n${warnings.slice(-30).join("\n")}`);
      }
      reports.push(body);
      console.log(`run ${i + 1}: ${body.durationMs} ms, ${body.rpc.calls} RPC calls in ${body.rpc.httpRequests} HTTP requests, rows ${JSON.stringify(body.rows)}, logs ${body.logs}, phases ${JSON.stringify(body.phasesMs)}`);
    }
    const best = reports.reduce((a, b) => (a.durationMs < b.durationMs ? a : b));
    // Each phase scales with its own count: table rows, logs, chamas, members.
    const rows = best.rows.chamas + best.rows.members + best.rows.contributions + best.rows.payouts;
    const target = { chamas: 10_000, members: 100_000, events: 1_000_000 };
    const seconds =
      (best.phasesMs.readIndex / rows) * (target.chamas + target.members + target.events) +
      (best.phasesMs.logs / best.logs) * target.events +
      (best.phasesMs.chamaViews / best.rows.chamas) * target.chamas +
      (best.phasesMs.memberViews / best.rows.members) * target.members;
    const batch = 500;
    console.log(
      JSON.stringify(
        {
          measured: { ...best.rows, logs: best.logs, durationMs: best.durationMs, phasesMs: best.phasesMs, rpcCalls: best.rpc.calls, httpRequests: best.rpc.httpRequests },
          extrapolated: {
            ...target,
            rpcCalls: 1 + target.chamas + 2 * target.members + 1 + 1,
            httpRequestsAtBatch500: Math.ceil(target.chamas / batch) + Math.ceil(target.members / (batch / 2)) + 3,
            seconds: Math.round(seconds / 1_000),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await indexer.stop();
  }
} finally {
  // Also when generating or indexing fails: never leave anvil behind.
  await chain.stop();
}
