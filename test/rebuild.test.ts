/**
 * Beyond one process, on PostgreSQL: the indexer writes schema S and publishes it through a views
 * schema; two `npm run serve` replicas read the views. Then a row is tampered with directly in
 * the database, `npm run reconcile` finds it (exit 1), `npm run rebuild` re-indexes into a new
 * schema, verifies it and switches the views while readers keep asking, and reconcile is clean
 * again. A rebuild that fails verification switches nothing and says why.
 */
import pg from "pg";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import type { ReconcileReport } from "../ops/reconcile";
import { accounts, type Chain, CHAIN_ID, chamaAs, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer, syncHealth } from "./_support/indexer";
import { SAT } from "../common/chain";
import { runScript, scriptEnv, startReplica } from "./_support/scripts";
import { startLyingRpc } from "./_support/lying-rpc";
import { waitFor } from "../scripts/lib/processes";
import { errorMessage } from "../common/errors";
import { graphql } from "../common/graphql";

type Replica = Awaited<ReturnType<typeof startReplica>>;

/** POSTs a GraphQL query to the server at `url` and returns its data; throws on any error. */
const gql = <T>(url: string, query: string, variables?: Record<string, unknown>) => graphql<T>({ url: `${url}/graphql`, query, variables });

/** The block a server's /status says it has indexed. */
async function statusBlock(url: string): Promise<bigint> {
  const status = (await (await fetch(`${url}/status`)).json()) as { anvil?: { block: { number: number } } };
  if (!status.anvil) throw new Error(`no status from ${url}`);
  return BigInt(status.anvil.block.number);
}

const EVERYTHING = `{
  chamas(orderBy: "id", limit: 1000) { items { id totalContributed totalPaidOut balance memberCount contributionCount payoutCount } }
  members(orderBy: "address", limit: 1000) { items { chamaId address totalContributed totalReceived contributionCount } }
  contributions(orderBy: "id", limit: 1000) { items { id amount blockNumber } }
}`;

describe("replicas, reconcile and rebuild on postgres", () => {
  let chain: Chain;
  let indexer: Indexer;
  let address: Address;
  let startBlock: number;
  let replicas: Replica[] = [];
  let db: pg.Client;
  let env: Record<string, string>;
  let firstContribution: string;
  const viewsSchema = `live_${process.pid}`;
  const rebuiltSchema = `rebuilt_${process.pid}`;
  const as = (i: number) => chamaAs({ chain, address, account: accounts[i]! });

  /** Runs `npm run reconcile` against the views schema. */
  const reconcileCli = (args: string[] = []) => runScript({ name: "reconcile", args: ["--schema", viewsSchema, ...args], env });

  /** The schema the views schema reads. */
  const served = async () =>
    (await db.query<{ table_schema: string }>(
      "SELECT table_schema FROM information_schema.view_table_usage WHERE view_schema = $1 AND view_name = 'chama'",
      [viewsSchema],
    )).rows[0]?.table_schema;

  beforeAll(async () => {
    chain = await startChain();
    ({ address, startBlock } = await deploy(chain));
    await as(0).createChama("Alpha", 1_000n * SAT);
    await as(1).createChama("Beta", 0n);
    firstContribution = (await as(2).contribute(1n, 1_000n * SAT)).transactionHash;
    await as(3).contribute(1n, 2_000n * SAT);
    await as(2).contribute(2n, 2n ** 66n);
    await as(1).payout(2n, accounts[5]!.address, 2n ** 65n);
    await chain.testClient.mine({ blocks: 35 });
    env = scriptEnv({ chain, address, startBlock, database: "postgres" });
    db = new pg.Client({ connectionString: chain.databaseUrl });
    await db.connect();
    indexer = await startIndexer({ chain, address, startBlock, database: "postgres", args: ["--views-schema", viewsSchema], env });
    await indexer.waitForBlock();
    // Ponder creates the views once historical indexing is complete.
    await waitFor({ what: "the views schema", timeoutMs: 60_000, check: async () => ((await served()) === indexer.schema ? true : undefined) });
    replicas = await Promise.all([startReplica({ schema: viewsSchema, env }), startReplica({ schema: viewsSchema, env })]);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await indexer?.stop();
    await db?.end();
    await chain?.stop();
  });

  test("two replicas answer identically while the indexer writes", async () => {
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < 12; i++) await as(2 + (i % 6)).contribute(BigInt(1 + (i % 2)), BigInt(1_000 + i) * SAT);
      writing = false;
    })();
    let comparisons = 0;
    while (writing) {
      // Both replicas have indexed at least B: every row up to B must be the same on both.
      const b = [await statusBlock(replicas[0]!.url), await statusBlock(replicas[1]!.url)].reduce((x, y) => (x < y ? x : y));
      const query = `query ($b: BigInt!) { contributions(where: { blockNumber_lte: $b }, orderBy: "id", limit: 1000) { items { id amount blockNumber } totalCount } }`;
      const [one, two] = await Promise.all(replicas.map((r) => gql(r.url, query, { b: b.toString() })));
      expect(one).toEqual(two);
      comparisons += 1;
    }
    await writes;
    expect(comparisons).toBeGreaterThan(0);

    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await waitFor({
      what: "both replicas at the head",
      timeoutMs: 30_000,
      check: async () => ((await Promise.all(replicas.map((r) => statusBlock(r.url)))).every((b) => b >= head) ? true : undefined),
    });
    // Replicas report health from the views schema too.
    for (const replica of replicas) {
      const { status, body } = await syncHealth(replica.url);
      expect(status).toBe(200);
      expect(body).toMatchObject({ status: "ok", indexed: { block: head.toString() }, sync: { mode: "realtime", ready: true } });
    }
    const [one, two, direct] = await Promise.all([gql(replicas[0]!.url, EVERYTHING), gql(replicas[1]!.url, EVERYTHING), gql(indexer.url, EVERYTHING)]);
    expect(one).toEqual(two);
    expect(one).toEqual(direct);
    expect((one as { contributions: { items: unknown[] } }).contributions.items).toHaveLength(15);
  });

  test("a tampered row: npm run reconcile names it and exits 1", async () => {
    const clean = await reconcileCli();
    expect(clean.stdout).toContain("the index equals the chain");
    expect(clean.code).toBe(0);

    const s = indexer.schema;
    // As an intruder would: straight into the table, past Ponder's triggers.
    await db.query("SET session_replication_role = replica");
    const before = (await db.query<{ total: string }>(`SELECT total_contributed::text AS total FROM "${s}".chama WHERE id = 1`)).rows[0]!.total;
    await db.query(`UPDATE "${s}".chama SET total_contributed = total_contributed + 1, balance = balance + 1 WHERE id = 1`);
    const victim = (
      await db.query<{ id: string; transaction_hash: string; log_index: number }>(
        `SELECT id, transaction_hash, log_index FROM "${s}".contribution ORDER BY block_number, log_index LIMIT 1`,
      )
    ).rows[0]!;
    await db.query(`DELETE FROM "${s}".contribution WHERE id = $1`, [victim.id]);
    await db.query("SET session_replication_role = DEFAULT");

    const text = await reconcileCli();
    expect(text.code).toBe(1);
    // The ledger's record of the deleted contribution has lost its indexed row: the fourth.
    expect(text.stdout).toContain("4 differences (1 missing_in_db, 3 value_mismatch)");
    expect(text.stdout).toContain(`value_mismatch ledger ${victim.transaction_hash.toLowerCase()}: indexed: db yes chain no`);
    expect(text.stdout).toContain(`value_mismatch chama 1: totalContributed: db ${BigInt(before) + 1n} chain ${before}; balance:`);

    const json = await reconcileCli(["--json"]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as ReconcileReport;
    expect(report.discrepancyCount).toBe(4);
    expect(report.discrepancies).toContainEqual({
      kind: "missing_in_db",
      table: "contribution",
      key: `${victim.transaction_hash}:${victim.log_index}`,
      db: null,
      chain: expect.objectContaining({ chamaId: "1", address: accounts[2]!.address.toLowerCase(), amount: (1_000n * SAT).toString() }),
    });
    expect(report.discrepancies).toContainEqual(
      expect.objectContaining({ kind: "value_mismatch", table: "chama", key: "1", fields: ["totalContributed", "balance"] }),
    );
    expect(report.discrepancies).toContainEqual(expect.objectContaining({ kind: "value_mismatch", table: "contract", fields: ["balance"] }));

    // The same through the running API (the path PGlite uses).
    const viaApi = await runScript({ name: "reconcile", args: ["--url", indexer.url], env });
    expect(viaApi.code).toBe(1);
    expect(viaApi.stdout).toContain("4 differences");
  });

  test("npm run rebuild re-indexes, verifies and switches the views while replicas keep answering", async () => {
    const [, , , contributed] = await chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "getChama", args: [1n] });
    const truth = contributed.toString();

    const answers: string[] = [];
    const failures: string[] = [];
    let reading = true;
    const readers = replicas.map(async (replica) => {
      while (reading) {
        try {
          answers.push((await gql<{ chama: { totalContributed: string } }>(replica.url, `{ chama(id: "1") { totalContributed } }`)).chama.totalContributed);
        } catch (error) {
          failures.push(errorMessage(error));
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const result = await runScript({ name: "rebuild", args: ["--views-schema", viewsSchema, "--schema", rebuiltSchema, "--timeout-minutes", "2"], env, timeoutMs: 150_000 });
    // Keep reading a moment after the switch, then stop.
    const seenAfter = answers.length;
    await waitFor({ what: "answers after the switch", timeoutMs: 10_000, check: () => (answers.length > seenAfter + 10 ? true : undefined) });
    reading = false;
    await Promise.all(readers);

    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("the index equals the chain");
    expect(result.stdout).toContain(`Switched readers on "${viewsSchema}" from "${indexer.schema}" to "${rebuiltSchema}"`);
    expect(await served()).toBe(rebuiltSchema);
    expect(failures).toEqual([]);
    expect(answers[0]).toBe((BigInt(truth) + 1n).toString());
    expect(answers.at(-1)).toBe(truth);

    const after = await reconcileCli();
    expect(after.stdout).toContain("the index equals the chain");
    expect(after.code).toBe(0);
  });

  test("a rebuild that fails verification switches nothing and says why", async () => {
    // The rebuild re-reads the chain (--refetch) through a faulty RPC that hides one
    // contribution; the reconciler checks against the real node (RECONCILE_RPC_URL).
    const liar = await startLyingRpc({ target: chain.rpcUrl, dropTransaction: firstContribution });
    const before = await served();
    const result = await runScript({
      name: "rebuild",
      args: ["--views-schema", viewsSchema, "--schema", `bad_${process.pid}`, "--timeout-minutes", "1", "--refetch"],
      env: { ...env, [`PONDER_RPC_URL_${CHAIN_ID}`]: liar.url, RECONCILE_RPC_URL: chain.rpcUrl },
      timeoutMs: 90_000,
    });
    await liar.stop();
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`missing_in_db contribution ${firstContribution}:0: `));
    expect(result.stdout).toContain("value_mismatch chama 1: totalContributed:");
    expect(result.stderr).toContain(
      `Verification failed: the rebuilt schema "bad_${process.pid}" differs from the chain (above). Nothing was switched: readers on "${viewsSchema}" still read "${before}".`,
    );
    expect(await served()).toBe(before);
    const answer = await gql<{ chamas: { totalCount: number } }>(replicas[0]!.url, `{ chamas { totalCount } }`);
    expect(answer.chamas.totalCount).toBe(2);
  }, 120_000);
});
