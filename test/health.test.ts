/**
 * /sync-health, /sync-health/metrics and POST /reconcile on the real indexer, on PGlite and on
 * PostgreSQL: a clean index at the head, the admin guard, a reorg inside the finality window
 * (counted, index still equal to the chain), a reorg deeper than the window (diverged, with the
 * stale rows named by the reconciler), and a dead RPC (reported fast, the server stays up).
 */
import { type Address, encodeFunctionData, type Hex, numberToHex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import { ADMIN_TOKEN, type Indexer, postReconcile, startIndexer, syncHealth } from "./_support/indexer";
import { accounts, type Chain, CHAIN_ID, chamaAs, databases, deploy, startChain } from "./_support/chain";
import { SAT } from "../common/chain";
import { runScript, scriptEnv } from "./_support/scripts";
import { startLyingRpc } from "./_support/lying-rpc";
import { waitFor } from "../scripts/lib/processes";

describe.each(databases)("sync health and reconciliation on %s", (database) => {
  let chain: Chain;
  let indexer: Indexer;
  let address: Address;
  let startBlock: number;
  let strictRpc: Awaited<ReturnType<typeof startLyingRpc>>;
  const as = (i: number) => chamaAs({ chain, address, account: accounts[i]! });

  /** Waits until /sync-health shows the indexer at the chain's head. */
  async function healthAtHead() {
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    return waitFor({
      what: `/sync-health at block ${head}`,
      timeoutMs: 60_000,
      intervalMs: 100,
      check: async () => {
        const health = await syncHealth(indexer.url);
        return health.body.indexed?.block === head.toString() && health.body.chain.reachable ? { ...health, head } : undefined;
      },
    });
  }

  beforeAll(async () => {
    chain = await startChain();
    ({ address, startBlock } = await deploy(chain));
    await as(0).createChama("Alpha", 1_000n * SAT);
    await as(1).createChama("Beta", 0n);
    await as(2).contribute(1n, 1_000n * SAT);
    await as(3).contribute(1n, 2_000n * SAT);
    await as(2).contribute(2n, 2n ** 70n);
    await as(4).contribute(2n, 5n);
    await as(1).payout(2n, accounts[5]!.address, 2n ** 69n);
    await chain.testClient.mine({ blocks: 35 });
    strictRpc = await startLyingRpc({ target: chain.rpcUrl, maxLogRange: 8 });
    indexer = await startIndexer({
      chain,
      address,
      startBlock,
      database,
      // Pages of 2 rows: the reconciler's keyset paging crosses many page boundaries, with block
      // numbers on both sides of 10 (where text order and numeric order part).
      // The reconciler reads through a provider that refuses eth_getLogs over more than 8 blocks,
      // so every reconciliation here also has to split its log ranges.
      env: { ADMIN_TOKEN, HEALTH_SAMPLE_INTERVAL_MS: "200", HEALTH_RPC_TIMEOUT_MS: "500", RECONCILE_PAGE_SIZE: "2", RECONCILE_RPC_URL: strictRpc.url },
    });
  });

  afterAll(async () => {
    await indexer?.stop();
    await strictRpc?.stop();
    await chain?.stop();
  });

  test("GET /sync-health: ok at the head, with every field", async () => {
    const { status, body, head } = await healthAtHead();
    const headBlock = await chain.publicClient.getBlock({ blockNumber: head });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "ok",
      reasons: [],
      chain: { reachable: true, head: head.toString(), headTimestamp: headBlock.timestamp.toString() },
      indexed: { block: head.toString(), timestamp: headBlock.timestamp.toString() },
      lag: { blocks: 0, seconds: 0 },
      sync: { mode: "realtime", ready: true, startBlock: String(startBlock), progress: 1 },
      reorgs: { seen: 0, deepest: 0, last: null, unrecoverable: false, windowBlocks: 35 },
      lastReconciliation: null,
      thresholds: { maxLagBlocks: 10, maxLagSeconds: 120, stallSeconds: 300, finalityBlocks: 30, rpcTimeoutMs: 500 },
    });
    expect(body.lagHistory.at(-1)).toMatchObject({ blocks: 0, seconds: 0 });

    const metrics = await (await fetch(`${indexer.url}/sync-health/metrics`)).text();
    expect(metrics).toContain('jenga_sync_status{status="ok"} 1');
    expect(metrics).toContain('jenga_sync_status{status="diverged"} 0');
    expect(metrics).toContain(`jenga_indexed_block ${head}\n`);
    expect(metrics).toContain("jenga_lag_blocks 0\n");
    expect(metrics).toContain("jenga_rpc_up 1\n");
  });

  test("POST /reconcile: 401 without the admin token, a clean report with it", async () => {
    const none = await postReconcile(indexer.url);
    expect(none.status).toBe(401);
    expect(none.body.error).toMatch(/Bearer <ADMIN_TOKEN>/);
    const wrong = await postReconcile(indexer.url, "not-the-token-at-all-000000000000");
    expect(wrong.status).toBe(401);

    const { head } = await healthAtHead();
    const { status, body } = await postReconcile(indexer.url, ADMIN_TOKEN);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      block: head.toString(),
      rows: { chamas: 2, members: 5, contributions: 4, payouts: 1 },
      logs: 7,
      discrepancyCount: 0,
      discrepancies: [],
    });
    // chamaCount, 2 getChama, 5 x (contributedBy, receivedBy), getBalance, and eth_getLogs over
    // blocks 1..43 halved until each range is at most 8 blocks: 7 refused, 8 answered.
    expect(startBlock).toBe(1);
    expect(head).toBe(43n);
    expect(body.rpc.calls).toBe(1 + 2 + 10 + 1 + 7 + 8);
    expect(body.rpc.httpRequests).toBeLessThan(body.rpc.calls);

    const after = await syncHealth(indexer.url);
    expect(after.body.lastReconciliation).toMatchObject({ ok: true, block: head.toString(), discrepancyCount: 0 });
  });

  test("a reorg inside the finality window is counted with its depth; the index still reconciles", async () => {
    await as(6).contribute(1n, 1_111n * SAT);
    await as(7).contribute(1n, 2_222n * SAT);
    await healthAtHead();
    const replacement = {
      from: accounts[8]!.address,
      to: address,
      value: numberToHex(3_333n * SAT),
      gas: numberToHex(200_000n),
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [1n] }),
    };
    await chain.testClient.request({ method: "anvil_reorg" as never, params: [2, [[replacement, 0]]] as never });

    const health = await waitFor({
      what: "the reorg in /sync-health",
      timeoutMs: 30_000,
      check: async () => {
        const h = await syncHealth(indexer.url);
        return h.body.reorgs.seen > 0 ? h : undefined;
      },
    });
    expect(health.body.reorgs).toMatchObject({ seen: 1, deepest: 2, unrecoverable: false, last: { depth: 2, beyondWindow: false } });

    // The head's number did not change: wait for the rollback itself, seen by the reconciler.
    let last: Awaited<ReturnType<typeof postReconcile>> | undefined;
    await waitFor({
      what: "the index to reconcile after the reorg",
      timeoutMs: 30_000,
      intervalMs: 200,
      check: async () => {
        last = await postReconcile(indexer.url, ADMIN_TOKEN);
        return last.body.ok ? true : undefined;
      },
    }).catch(() => undefined);
    expect(last?.body).toMatchObject({ ok: true, discrepancyCount: 0, rows: { contributions: 5 } });
    expect((await syncHealth(indexer.url)).body.status).toBe("ok");
  });

  test("a reorg deeper than the finality window: diverged, and the reconciler names the stale rows", async () => {
    const stale = await as(9).contribute(2n, 4_444n * SAT);
    await chain.testClient.mine({ blocks: 33 });
    await healthAtHead();
    // Replace the last 36 blocks (the contribution is 34 deep) with empty ones.
    await chain.testClient.request({ method: "anvil_reorg" as never, params: [36, []] as never });

    const health = await waitFor({
      what: "/sync-health to report the unrecoverable reorg",
      timeoutMs: 30_000,
      check: async () => {
        const h = await syncHealth(indexer.url);
        return h.body.reorgs.unrecoverable ? h : undefined;
      },
    });
    expect(health.status).toBe(503);
    expect(health.body.status).toBe("diverged");
    expect(health.body.reorgs).toMatchObject({ seen: 2, deepest: 35, last: { beyondWindow: true } });
    expect(health.body.reasons.join("\n")).toMatch(/unrecoverable reorg: the chain replaced at least 35 blocks.*npm run rebuild/);

    const { body } = await postReconcile(indexer.url, ADMIN_TOKEN);
    expect(body.ok).toBe(false);
    const key = `${stale.transactionHash}:${stale.logs[0]!.logIndex}`;
    expect(body.discrepancies).toContainEqual(
      expect.objectContaining({ kind: "extra_in_db", table: "contribution", key, chain: null }),
    );
    expect(body.discrepancies).toContainEqual(
      expect.objectContaining({ kind: "value_mismatch", table: "contract", fields: ["balance"] }),
    );
    expect(body.discrepancies).toContainEqual(
      expect.objectContaining({ kind: "extra_in_db", table: "member", key: `2:${accounts[9]!.address.toLowerCase()}` }),
    );
    // The ledger held the reorged-out transactions as reconciled, at blocks the chain no longer
    // has: the reconciler names those still held so (the follower may have taken back the ones
    // inside its watch window already), and the follower takes every one of them back: the
    // chain wins, below the watch window too.
    const named = body.discrepancies.filter((d) => d.table === "ledger").map((d) => d.key);
    expect(named.length).toBeGreaterThan(0);
    const stateOf = async (hash: string) => {
      const response = await fetch(`${indexer.url}/transactions/${hash}`);
      if (response.status === 404) return undefined;
      return (await response.json()) as { status: string; transitions: { to: string; cause: string }[] };
    };
    for (const key of named) {
      await expect(chain.publicClient.getTransactionReceipt({ hash: key as Hex })).rejects.toThrow(/could not be found/);
      const record = await waitFor({
        what: `the ledger to take ${key} back from reconciled`,
        timeoutMs: 30_000,
        check: async () => {
          const r = await stateOf(key);
          return r && r.status !== "reconciled" && r.status !== "confirmed" ? r : undefined;
        },
      });
      expect(record.transitions.at(-1)?.cause).toMatch(/reorg/i);
    }
    // The stale contribution: never recorded (it went before the follower adopted it), or no
    // longer settled.
    const staleRecord = await stateOf(stale.transactionHash.toLowerCase());
    expect(["pending", "dropped", "failed", undefined]).toContain(staleRecord?.status);
  });

  // The rebuild with views is PostgreSQL's; PGlite's stop-and-swap is in rebuild-pglite.test.ts.
  if (database === "postgres")
    test("after the unrecoverable reorg, npm run rebuild -- --refetch rebuilds from the chain and verifies", async () => {
      const viewsSchema = `recovered_${process.pid}`;
      const env = scriptEnv({ chain, address, startBlock, database });
      // The running index is left as the previous test found it (Ponder sometimes converges on
      // its own a few seconds after an unrecoverable reorg, so it is not checked again here).
      // --refetch: Ponder's sync cache still holds the replaced blocks.
      const result = await runScript({
        name: "rebuild",
        args: ["--views-schema", viewsSchema, "--schema", `recovered_data_${process.pid}`, "--refetch", "--timeout-minutes", "1"],
        env,
        timeoutMs: 90_000,
      });
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`cleared Ponder's sync cache for chain ${CHAIN_ID}`);
      expect(result.stdout).toContain("the index equals the chain");
      const after = await runScript({ name: "reconcile", args: ["--schema", viewsSchema], env });
      expect(after.stdout).toContain("the index equals the chain");
      expect(after.code).toBe(0);
    }, 120_000);

  test("a dead RPC is reported within the timeout and the server stays up", async () => {
    await chain.anvil.stop(); // the RPC only: the database stays up
    const started = Date.now();
    const health = await waitFor({
      what: "/sync-health to report the RPC down",
      timeoutMs: 10_000,
      check: async () => {
        const h = await syncHealth(indexer.url);
        return h.body.chain.reachable ? undefined : h;
      },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(health.status).toBe(503);
    expect(health.body.chain).toMatchObject({ reachable: false });
    expect(health.body.reasons).toContainEqual(expect.stringMatching(/^the RPC did not answer within 500 ms/));
    expect((await fetch(`${indexer.url}/health`)).status).toBe(200);
    const graphql = await indexer.graphql<{ chamas: { totalCount: number } }>(`{ chamas { totalCount } }`);
    expect(graphql.data?.chamas.totalCount).toBe(2);
  });
});
