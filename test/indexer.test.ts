/**
 * The indexer end to end, on PGlite and on PostgreSQL: a real anvil, the deployed contract, a
 * scripted workload, the real `ponder start` process, then every table compared with the ground
 * truth from the chain's logs and the contract's views; then reorgs (anvil_reorg and
 * snapshot/revert) and abusive API input against the same running indexer.
 */
import { createClient, sql } from "@ponder/client";
import pg from "pg";
import superjson from "superjson";
import { type Address, type Hash, encodeFunctionData, numberToHex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import * as schema from "../ponder.schema";
import { accounts, type Chain, chamaAs, databases, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";
import { SAT } from "../common/chain";
import { waitFor } from "../scripts/lib/processes";
import { expectedTables, indexedTables, type Tables, viewMismatches } from "./_support/truth";

/** The SQL-over-HTTP deadline these tests run with (the default is 30 s). */
const SQL_TIMEOUT_MS = 3_000;

/** Larger than 2^53: any Number() conversion on the way would corrupt it. */
const HUGE = 2n ** 64n + 12_345n;

describe.each(databases)("indexer on %s", (database) => {
  let chain: Chain;
  let indexer: Indexer;
  let address: Address;
  let startBlock: number;

  const admin1 = () => chamaAs({ chain, address, account: accounts[0]! });
  const admin2 = () => chamaAs({ chain, address, account: accounts[1]! });
  const member = (i: number) => chamaAs({ chain, address, account: accounts[i]! });

  /** Waits until the index equals the chain's ground truth at the head, checks the contract's
   * views at that same block, and returns the indexed tables. */
  async function expectConsistent(): Promise<Tables> {
    let last: { indexed: Tables; expected: Tables; head: bigint } | undefined;
    try {
      await waitFor({
        what: "the index to equal the chain",
        timeoutMs: 30_000,
        intervalMs: 200,
        check: async () => {
          const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
          await indexer.waitForBlock(head);
          const [indexed, expected] = await Promise.all([
            indexedTables(indexer),
            expectedTables({ chain, address, fromBlock: BigInt(startBlock), toBlock: head }),
          ]);
          last = { indexed, expected, head };
          return JSON.stringify(indexed) === JSON.stringify(expected) ? true : undefined;
        },
      });
    } catch (error) {
      if (!last) throw error;
    }
    // On success this passes; on timeout it shows the exact differing rows.
    expect(last!.indexed).toEqual(last!.expected);
    expect(await viewMismatches({ chain, address, blockNumber: last!.head, tables: last!.indexed })).toEqual([]);
    // Nothing was sent during the check: the head it compared at is still the head.
    expect(await chain.publicClient.getBlockNumber({ cacheTime: 0 })).toBe(last!.head);
    return last!.indexed;
  }

  /** Sends several contributions with mining paused, then mines them into one block. */
  async function denseBlock(params: { chamaId: bigint; senders: number[]; value: bigint }) {
    await chain.testClient.setAutomine(false);
    const hashes: Hash[] = [];
    for (const i of params.senders) hashes.push(await member(i).contributeNoWait(params.chamaId, params.value + BigInt(i)));
    await chain.testClient.mine({ blocks: 1 });
    await chain.testClient.setAutomine(true);
    const receipts = await Promise.all(hashes.map((hash) => chain.publicClient.waitForTransactionReceipt({ hash })));
    return receipts;
  }

  beforeAll(async () => {
    chain = await startChain();
    ({ address, startBlock } = await deploy(chain));

    // Part 1, before the indexer starts (backfilled once it is older than the finality window).
    await admin1().createChama("Alpha", 1_000n * SAT);
    await admin2().createChama("Beta", 0n);
    await member(2).contribute(1n, 1_000n * SAT);
    await member(3).contribute(1n, 2_500n * SAT);
    await member(2).contribute(1n, 1_000n * SAT);
    await member(4).contribute(2n, HUGE);
    await chain.testClient.increaseTime({ seconds: 86_400 });
    await member(4).contribute(2n, 1n);
    await admin2().payout(2n, accounts[5]!.address, HUGE / 3n);
    await chain.testClient.mine({ blocks: 40 });

    indexer = await startIndexer({ chain, address, startBlock, database, env: { SQL_TIMEOUT_MS: String(SQL_TIMEOUT_MS) } });
  });

  afterAll(async () => {
    await indexer?.stop();
    await chain?.stop();
  });

  test("backfilled rows and derived totals equal the chain", async () => {
    const tables = await expectConsistent();
    expect(tables.chamas.map((c) => [c.id, c.name, c.memberCount, c.contributionCount, c.payoutCount])).toEqual([
      ["1", "Alpha", 2, 3, 0],
      ["2", "Beta", 1, 2, 1],
    ]);
    // bigint end to end: 2^64 + 12345 survives, and so does the balance derived from it.
    const beta = tables.chamas.find((c) => c.id === "2")!;
    expect(beta.totalContributed).toBe((HUGE + 1n).toString());
    expect(beta.balance).toBe((HUGE + 1n - HUGE / 3n).toString());
    // A payout-only recipient is a member with no contribution dates and is not counted.
    const recipient = tables.members.find((m) => m.address === accounts[5]!.address.toLowerCase())!;
    expect(recipient).toMatchObject({ totalContributed: "0", contributionCount: 0, payoutCount: 1, firstContributionAt: null, lastContributionAt: null });
    // Two UTC days for Beta.
    expect(tables.chamaDays.filter((d) => d.chamaId === "2")).toHaveLength(2);
  });

  test("realtime events, many in one block, and a reverted transaction", async () => {
    const receipts = await denseBlock({ chamaId: 1n, senders: [2, 3, 4, 5, 6, 7, 8], value: 1_000n * SAT });
    expect(new Set(receipts.map((r) => r.blockNumber)).size).toBe(1);

    // A reverted transaction (below the minimum) is mined but must leave no row.
    const reverted = await member(9).walletClient.sendTransaction({
      to: address,
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [1n] }),
      value: 1n,
      gas: 200_000n,
    });
    expect((await chain.publicClient.waitForTransactionReceipt({ hash: reverted })).status).toBe("reverted");
    await admin1().payout(1n, accounts[9]!.address, 3_000n * SAT);

    const tables = await expectConsistent();
    expect(tables.contributions.filter((c) => c.blockNumber === receipts[0]!.blockNumber.toString())).toHaveLength(7);
    expect(tables.contributions.some((c) => c.transactionHash === reverted)).toBe(false);
    expect(tables.chamas.find((c) => c.id === "1")).toMatchObject({ memberCount: 7, contributionCount: 10, payoutCount: 1 });
  });

  test("nested GraphQL: a chama with its contributions, payouts and members", async () => {
    const result = await indexer.graphql<{
      chama: { name: string; contributions: { totalCount: number }; payouts: { items: { recipient: string }[] }; members: { totalCount: number } };
    }>(`{ chama(id: "1") { name contributions { totalCount } payouts { items { recipient } } members { totalCount } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data?.chama).toEqual({
      name: "Alpha",
      contributions: { totalCount: 10 },
      payouts: { items: [{ recipient: accounts[9]!.address.toLowerCase() }] },
      members: { totalCount: 8 },
    });
  });

  test("anvil_reorg drops the reorged rows, restores every total and indexes the replacement", async () => {
    // A new member's first contribution and a payout, both about to be reorged out.
    const gone = await member(8).contribute(2n, 7_777n);
    const gonePayout = await admin2().payout(2n, accounts[6]!.address, 1_000n);
    const before = await expectConsistent();
    expect(before.contributions.some((c) => c.transactionHash === gone.transactionHash)).toBe(true);
    const betaBefore = before.chamas.find((c) => c.id === "2")!;

    // Replace the last 2 blocks; the new chain carries a different contribution instead.
    const replacement = {
      from: accounts[7]!.address,
      to: address,
      value: numberToHex(4_242n),
      gas: numberToHex(200_000n),
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [2n] }),
    };
    await chain.testClient.request({ method: "anvil_reorg" as never, params: [2, [[replacement, 0]]] as never });

    const after = await expectConsistent();
    expect(after.contributions.some((c) => c.transactionHash === gone.transactionHash)).toBe(false);
    expect(after.payouts.some((p) => p.transactionHash === gonePayout.transactionHash)).toBe(false);
    expect(after.contributions.some((c) => c.amount === "4242" && c.address === accounts[7]!.address.toLowerCase())).toBe(true);
    const beta = after.chamas.find((c) => c.id === "2")!;
    expect(BigInt(beta.totalContributed)).toBe(BigInt(betaBefore.totalContributed) - 7_777n + 4_242n);
    expect(beta.payoutCount).toBe(betaBefore.payoutCount - 1);
    expect(after.members.some((m) => m.chamaId === "2" && m.address === accounts[8]!.address.toLowerCase())).toBe(false);
  });

  test("evm_snapshot/evm_revert plus a longer chain rolls back rows and derived tables", async () => {
    const snapshot = await chain.testClient.snapshot();
    const before = await expectConsistent();
    await chain.testClient.increaseTime({ seconds: 86_400 });
    const gone = await member(6).contribute(1n, 5_000n * SAT);
    await admin1().createChama("Gamma", 0n);
    const during = await expectConsistent();
    expect(during.chamas).toHaveLength(before.chamas.length + 1);
    expect(during.chamaDays.length).toBeGreaterThan(before.chamaDays.length);

    await chain.testClient.revert({ id: snapshot });
    // A longer canonical chain without those transactions, with one different one.
    const replacement = await member(3).contribute(1n, 1_234n * SAT);
    await chain.testClient.mine({ blocks: 3 });

    const after = await expectConsistent();
    expect(after.chamas).toHaveLength(before.chamas.length);
    expect(after.chamaDays).toEqual(
      before.chamaDays.map((d) =>
        d.chamaId === "1" && d.day === Math.max(...before.chamaDays.filter((x) => x.chamaId === "1").map((x) => x.day))
          ? { ...d, contributed: (BigInt(d.contributed) + 1_234n * SAT).toString(), contributionCount: d.contributionCount + 1 }
          : d,
      ),
    );
    expect(after.contributions.some((c) => c.transactionHash === gone.transactionHash)).toBe(false);
    expect(after.contributions.some((c) => c.transactionHash === replacement.transactionHash)).toBe(true);
  });

  describe("API abuse gets a clear error and changes nothing", () => {
    test("GraphQL over the page limit, too deep, too many aliases, too many tokens", async () => {
      // Twice each: the second time the parsed document (or the parse error) and the
      // validation result come from GraphQL's parse/validation cache, and must refuse alike.
      for (let round = 0; round < 2; round++) {
        const overLimit = await indexer.graphql(`{ contributions(limit: 5000) { items { id } } }`);
        expect(overLimit.errors?.[0]?.message).toBe("Invalid limit. Got 5000, expected <=1000.");

        const deep = await indexer.graphql(
          `{ chamas { items { contributions { items { chama { contributions { items { chama { payouts { items { id } } } } } } } } } } }`,
        );
        expect(deep.errors?.[0]?.message).toBe("Syntax Error: Query depth limit of 8 exceeded, found 11.");

        const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: chama(id: "1") { id }`).join(" ");
        const flood = await indexer.graphql(`{ ${aliases} }`);
        expect(flood.errors?.[0]?.message).toBe("Syntax Error: Aliases limit of 20 exceeded, found 25.");

        const huge = await indexer.graphql(`{ chamas { items { ${"id ".repeat(2_500)} } } }`);
        expect(huge.errors?.[0]?.message).toBe("Syntax Error: Token limit of 2000 exceeded.");
      }

      // Still serving.
      const ok = await indexer.graphql<{ chamas: { totalCount: number } }>(`{ chamas { totalCount } }`);
      expect(ok.data?.chamas.totalCount).toBeGreaterThan(0);
    });

    test("SQL over HTTP reads the tables and refuses writes", async () => {
      const client = createClient(`${indexer.url}/sql`, { schema });
      const rows = await client.db.select().from(schema.chama);
      expect(rows.length).toBeGreaterThan(0);
      expect(typeof rows[0]!.totalContributed).toBe("bigint");

      const before = await client.db.select().from(schema.contribution);
      for (const statement of [
        sql`DELETE FROM contribution`,
        sql`UPDATE chama SET balance = 0`,
        sql`INSERT INTO account (id, total_contributed, total_received, contribution_count, payout_count, chama_count) VALUES ('0x00', 0, 0, 0, 0, 0)`,
        sql`DROP TABLE chama`,
        sql`SELECT 1; DELETE FROM contribution`,
      ]) {
        await expect(client.db.execute(statement)).rejects.toThrow();
      }
      const after = await client.db.select().from(schema.contribution);
      expect(after).toHaveLength(before.length);
    });

    test("SQL over HTTP refuses the indexer's internal tables, system tables and sleeps", async () => {
      const client = createClient(`${indexer.url}/sql`, { schema });
      await expect(client.db.execute(sql`SELECT * FROM _reorg__chama`)).rejects.toThrow(
        "_reorg__chama is internal to the indexer and not queryable.",
      );
      await expect(client.db.execute(sql`SELECT value FROM _ponder_meta`)).rejects.toThrow(
        "_ponder_meta is internal to the indexer and not queryable.",
      );
      await expect(client.db.execute(sql`SELECT pg_sleep(5)`)).rejects.toThrow("The function pg_sleep() is not allowed in SQL over HTTP.");
      await expect(client.db.execute(sql`SELECT * FROM ponder_sync.logs`)).rejects.toThrow(
        "Schema-qualified names (ponder_sync.logs) are not allowed; name the table alone.",
      );
      await expect(client.db.execute(sql`SELECT * FROM pg_tables`)).rejects.toThrow('"pg_tables" is not a table of this index.');
      // Progress stays readable, and ordinary analyst queries pass the guard.
      const [checkpoint] = await client.db.execute<{ chain_id: number }>(sql`SELECT chain_id FROM _ponder_checkpoint`);
      expect(Number(checkpoint?.chain_id)).toBe(31337);
      const rows = await client.db.execute(sql`SELECT chama_id, sum(amount) FROM contribution WHERE chama_id = ${1n} GROUP BY chama_id`);
      expect(rows).toHaveLength(1);
    });

    // PGlite, the development database, runs a query on the API's own thread and cannot cancel
    // it (README, "SQL for analysts"): this case exists on PostgreSQL only.
    if (database === "postgres") {
      test("SQL over HTTP stops a runaway query in the database and keeps serving", async () => {
        await indexer.waitForBlock();
        const client = createClient(`${indexer.url}/sql`, { schema });
        const before = await client.db.select().from(schema.contribution);
        expect(before.length).toBeGreaterThanOrEqual(5);
        // Fourteen copies of the table in one cross join: at least 5^14 (6 billion) rows to count,
        // minutes of work (5^10 took 4.7 s here).
        const from = Array.from({ length: 14 }, (_, i) => `contribution c${i}`).join(", ");
        const runaway = `SELECT count(*) FROM ${from}`;
        await expect(client.db.execute(sql.raw(runaway))).rejects.toThrow(
          `The query ran longer than ${SQL_TIMEOUT_MS / 1000} s (SQL_TIMEOUT_MS) and was stopped.`,
        );
        // Stopped by PostgreSQL itself (statement_timeout), and nothing retries it.
        const admin = new pg.Client({ connectionString: chain.databaseUrl });
        await admin.connect();
        try {
          await waitFor({
            what: "no copy of the runaway query to be running",
            timeoutMs: 10_000,
            check: async () => {
              const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query = $1`, [runaway]);
              return rows[0]!.n === 0 ? true : undefined;
            },
          });
        } finally {
          await admin.end();
        }
        // Still serving, data unchanged.
        expect(await client.db.select().from(schema.contribution)).toEqual(before);

        // A live query runs through the same executor (the `execute` option patched into
        // Ponder's client middleware): the database stops it too, instead of Ponder's own 30 s
        // pool timeout and retries.
        const started = Date.now();
        const live = await fetch(`${indexer.url}/sql/live?sql=${encodeURIComponent(superjson.stringify({ sql: runaway, params: [] }))}`);
        expect({ status: live.status, body: await live.text() }).toEqual({
          status: 504,
          body: `The query ran longer than ${SQL_TIMEOUT_MS / 1000} s (SQL_TIMEOUT_MS) and was stopped by the database. Narrow it: filter with WHERE, join on keys rather than across whole tables, aggregate less.`,
        });
        expect(Date.now() - started).toBeLessThan(SQL_TIMEOUT_MS + 5_000);
      });
    }
  });
});
