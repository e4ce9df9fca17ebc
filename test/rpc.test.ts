/**
 * The indexer's JSON-RPC transport (config/rpc.ts) against a real anvil, then the race it exists
 * for, with the real `ponder start`: the head block Ponder is fetching logs for is replaced by a
 * reorg before the logs arrive.
 */
import { type Hex, createClient, keccak256, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { indexerTransport } from "../config/rpc";
import { accounts, type Chain, chamaAs, deploy, startChain } from "./_support/chain";
import { SAT } from "../common/chain";
import { startIndexer } from "./_support/indexer";
import { startLyingRpc } from "./_support/lying-rpc";
import { expectedTables, indexedTables } from "./_support/truth";

describe("indexer transport", () => {
  let chain: Chain;
  beforeAll(async () => {
    chain = await startChain();
  });
  afterAll(async () => {
    await chain?.stop();
  });

  const transport = () => createClient({ transport: indexerTransport(chain.rpcUrl) });
  const logsOf = (client: ReturnType<typeof transport>, blockHash: Hex) =>
    client.request({ method: "eth_getLogs", params: [{ blockHash }] });

  test("a block replaced by a reorg fails at once with an error that says so", async () => {
    const client = transport();
    const snapshot = await chain.testClient.snapshot();
    await chain.testClient.mine({ blocks: 1 });
    const stale = await client.request({ method: "eth_getBlockByNumber", params: ["latest", false] });
    expect(await logsOf(client, stale!.hash!)).toEqual([]);

    await chain.testClient.revert({ id: snapshot });
    await chain.testClient.mine({ blocks: 2 });
    const replacement = await chain.publicClient.getBlock({ blockNumber: BigInt(stale!.number!) });
    expect(replacement.hash).not.toBe(stale!.hash);

    const error = await logsOf(client, stale!.hash!).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain(`Block ${stale!.hash} is no longer on the chain: a reorg reverted it`);
    expect(error?.message).toContain(replacement.hash);
    // Ponder (rpc/index.ts shouldRetry) does not retry an RPC error whose message says "revert".
    expect((error as { code?: number }).code).toBe(-32001);
  });

  test("an unknown block that was never seen, or is not replaced yet, keeps the node's own error", async () => {
    const client = transport();
    const never = keccak256(toHex("never seen"));
    await expect(logsOf(client, never)).rejects.toThrow(/unknown block/);

    // Reverted but nothing mined at its height yet: a lagging node looks the same, so no verdict.
    const snapshot = await chain.testClient.snapshot();
    await chain.testClient.mine({ blocks: 1 });
    const gone = await client.request({ method: "eth_getBlockByNumber", params: ["latest", false] });
    await chain.testClient.revert({ id: snapshot });
    const error = await logsOf(client, gone!.hash!).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/unknown block/);
    expect(error?.message).not.toMatch(/revert/);
  });
});

describe("a head block replaced while the indexer fetches its logs", () => {
  let chain: Chain;
  beforeAll(async () => {
    chain = await startChain();
  });
  afterAll(async () => {
    await chain?.stop();
  });

  test("the indexer drops it and indexes the new chain without waiting out retries", async () => {
    const { address, startBlock } = await deploy(chain);
    const admin = chamaAs({ chain, address, account: accounts[0]! });
    const member = chamaAs({ chain, address, account: accounts[2]! });
    await admin.createChama("Race", 0n);

    // Holds the first eth_getLogs({ blockHash }) for an armed block until the test releases it.
    let armed = false;
    let held: ((hash: string) => void) | undefined;
    const heldHash = new Promise<string>((resolve) => (held = resolve));
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const proxy = await startLyingRpc({
      target: chain.rpcUrl,
      beforeBlockLogs: async (hash) => {
        if (!armed) return;
        armed = false;
        held?.(hash);
        await released;
      },
    });
    const indexer = await startIndexer({ chain, address, startBlock, database: "pglite", rpcUrl: proxy.url });
    try {
      await indexer.waitForBlock();

      const snapshot = await chain.testClient.snapshot();
      armed = true;
      const stale = await member.contribute(1n, 7n * SAT);
      expect(await heldHash).toBe(stale.blockHash);

      // While Ponder waits for that block's logs, a reorg replaces it with a longer chain.
      await chain.testClient.revert({ id: snapshot });
      const replacement = await member.contribute(1n, 9n * SAT);
      await chain.testClient.mine({ blocks: 1 });
      release();

      const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
      // Ponder alone retries the lost block's logs for about 64 s before it moves on.
      await indexer.waitForBlock(head, 20_000);
      const [indexed, expected] = await Promise.all([
        indexedTables(indexer),
        expectedTables({ chain, address, fromBlock: BigInt(startBlock), toBlock: head }),
      ]);
      expect(indexed).toEqual(expected);
      expect(indexed.contributions.map((c) => c.transactionHash)).toEqual([replacement.transactionHash]);
      expect(indexer.logs()).toContain(`Block ${stale.blockHash} is no longer on the chain`);
    } finally {
      release();
      await indexer.stop();
      await proxy.stop();
    }
  });
});
