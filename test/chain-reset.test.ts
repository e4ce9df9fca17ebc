/**
 * A chain reset under a kept database: index one anvil chain, stop it, start a fresh anvil with
 * the same chain id (so the same deployer nonce gives the same Chama address) and other events,
 * and index it again in the same database. Ponder's `ponder_sync` cache is keyed by chain id
 * and shared by every schema of a database; the new run must serve the new chain's rows, never
 * the dead chain's, and say that it dropped the stale cache.
 */
import { afterEach, describe, expect, test } from "vitest";
import { accounts, type Chain, chamaAs, type Database, databases, deploy, startChain } from "./_support/chain";
import { createStorage, type Indexer, type IndexerStorage, removeStorage, startIndexer } from "./_support/indexer";
import { SAT } from "../common/chain";
import { waitFor } from "../scripts/lib/processes";
import { expectedTables, indexedTables, type Tables } from "./_support/truth";

/** Blocks mined after the events, so that they fall behind Ponder's 30-block finality and go
 * through the backfill (the only path that reads and writes `ponder_sync`). */
const PAST_FINALITY = 40;

/** Deploys Chama on `chain`, sends `chamas` createChama and `contributions` contributions (spread
 * over the chamas), then mines past finality. Returns the address and start block. */
async function seed(params: { chain: Chain; chamas: string[]; contributions: bigint[] }) {
  const { chain } = params;
  const deployment = await deploy(chain);
  const admin = chamaAs({ chain, address: deployment.address, account: accounts[0]! });
  for (const name of params.chamas) await admin.createChama(name, 0n);
  for (const [i, value] of params.contributions.entries()) {
    const member = chamaAs({ chain, address: deployment.address, account: accounts[1 + (i % 5)]! });
    await member.contribute(BigInt(1 + (i % params.chamas.length)), value);
  }
  await chain.testClient.mine({ blocks: PAST_FINALITY });
  return deployment;
}

/** Waits until the indexer has passed the head and its rows equal the chain's logs. */
async function expectIndexEqualsChain(params: { indexer: Indexer; chain: Chain; address: `0x${string}`; startBlock: number }) {
  const { indexer, chain } = params;
  const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
  await indexer.waitForBlock(head, 90_000);
  const expected = await expectedTables({ chain, address: params.address, fromBlock: BigInt(params.startBlock), toBlock: head });
  let indexed: Tables | undefined;
  await waitFor({
    what: "the index to equal the chain",
    timeoutMs: 20_000,
    intervalMs: 200,
    check: async () => {
      indexed = await indexedTables(indexer);
      return JSON.stringify(indexed) === JSON.stringify(expected) ? true : undefined;
    },
  }).catch(() => undefined);
  // On a mismatch this shows the differing rows.
  expect(indexed).toEqual(expected);
  return expected;
}

describe.each(databases)("a chain reset on %s", (database: Database) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  });

  test("the restarted indexer serves the new chain, drops the dead chain's cache and says so", { timeout: 300_000 }, async () => {
    // The first chain: three chamas, seven contributions.
    const oldChain = await startChain();
    cleanup.push(() => oldChain.stop());
    const old = await seed({ chain: oldChain, chamas: ["Old A", "Old B", "Old C"], contributions: [11n, 12n, 13n, 14n, 15n, 16n, 17n].map((n) => n * SAT) });
    const storage: IndexerStorage = createStorage({ database, chain: oldChain });
    cleanup.push(() => removeStorage(storage));

    const first = await startIndexer({ chain: oldChain, address: old.address, startBlock: old.startBlock, database, storage });
    cleanup.push(() => first.stop());
    const oldTruth = await expectIndexEqualsChain({ indexer: first, chain: oldChain, address: old.address, startBlock: old.startBlock });
    expect([oldTruth.chamas.length, oldTruth.contributions.length]).toEqual([3, 7]);
    await first.stop();
    // Only the node goes: the database (and its ponder_sync) stays, as it would for a user.
    await oldChain.anvil.stop();

    // The reset chain: same chain id and deployer, so the same address; other events.
    const newChain = await startChain();
    cleanup.push(() => newChain.stop());
    const fresh = await seed({ chain: newChain, chamas: ["New A"], contributions: [21n, 22n].map((n) => n * SAT) });
    expect(fresh.address).toBe(old.address);

    // Same database: a new schema beside the old one on PostgreSQL, the same directory on PGlite.
    const second = await startIndexer({
      chain: newChain,
      address: fresh.address,
      startBlock: fresh.startBlock,
      database,
      storage: { ...storage, schema: `${storage.schema}_reset` },
    });
    cleanup.push(() => second.stop());
    const newTruth = await expectIndexEqualsChain({ indexer: second, chain: newChain, address: fresh.address, startBlock: fresh.startBlock });
    expect([newTruth.chamas.length, newTruth.contributions.length]).toEqual([1, 2]);
    expect(newTruth.chamas.map((c) => c.name)).toEqual(["New A"]);

    const where = database === "pglite" ? `PGlite at ${storage.pgliteDirectory}` : `PostgreSQL database ${new URL(storage.databaseUrl!).pathname.slice(1)} on ${new URL(storage.databaseUrl!).host}`;
    const line = second.logs().split("\n").find((l) => l.startsWith("Chain 31337 was reset"));
    expect(line).toBeDefined();
    expect(line!.startsWith(`Chain 31337 was reset: Ponder's sync cache (ponder_sync in ${where}) holds block `)).toBe(true);
    expect(line).toMatch(
      /holds block (\d+) with hash 0x[0-9a-f]{64}, but the chain's block \1 has hash 0x[0-9a-f]{64}\. Dropped every cached row of chain 31337 in one transaction \((\d+ [a-z_]+)(, \d+ [a-z_]+)*\); Ponder fetches them again from the RPC\.$/,
    );
    expect(line).toMatch(/[1-9]\d* logs/);
    expect(first.logs()).not.toContain("was reset");
  });
});
