/**
 * The operator settings (health thresholds, reconciliation, admin token) and the pieces of the
 * health logic that need no indexer: defaults, exact errors for bad values, the reorg watcher on
 * a scripted chain, the status rules against a fake RPC, and the Prometheus text.
 */
import { createServer } from "node:http";
import { type Hex, hexToBigInt, numberToHex } from "viem";
import { describe, expect, test } from "vitest";
import { getFreePort } from "../scripts/lib/ports";
import { waitFor } from "../scripts/lib/processes";
import { servedSchema } from "../src/api/ops";
import { ConfigError, loadOpsEnv } from "../config/env";
import { HealthMonitor, type IndexState, type SyncHealth } from "../ops/health";
import { healthMetrics } from "../ops/health-metrics";
import { ReorgWatcher } from "../ops/reorg-watcher";
import type { ReconcileReport } from "../ops/reconcile";

describe("loadOpsEnv", () => {
  test("defaults", () => {
    expect(loadOpsEnv({ env: {} })).toEqual({
      finalityBlocks: 30,
      maxLagBlocks: 10,
      maxLagSeconds: 120,
      stallSeconds: 300,
      rpcTimeoutMs: 2_000,
      sampleIntervalMs: 5_000,
      reconcileEnabled: false,
      reconcileIntervalMs: 600_000,
      reconcilePageSize: 1_000,
      reconcileBatchSize: 500,
      reconcileLogRange: 50_000,
      adminToken: undefined,
      reconcileRpcUrl: undefined,
      alertWebhookUrl: undefined,
      alertWebhookTimeoutMs: 5_000,
      alertMaxAttempts: 6,
      alertRetryBaseMs: 1_000,
      alertRetryMaxMs: 60_000,
      alertQueueSize: 100,
      alertDebounceMs: 30_000,
    });
  });

  test("ALERT_* settings from the environment", () => {
    const ops = loadOpsEnv({
      env: {
        ALERT_WEBHOOK_URL: "https://hooks.example/services/T000/B000/secret",
        ALERT_WEBHOOK_TIMEOUT_MS: "250",
        ALERT_MAX_ATTEMPTS: "3",
        ALERT_RETRY_BASE_MS: "20",
        ALERT_RETRY_MAX_MS: "80",
        ALERT_QUEUE_SIZE: "5",
        ALERT_DEBOUNCE_MS: "0",
      },
    });
    expect(ops).toMatchObject({
      alertWebhookUrl: "https://hooks.example/services/T000/B000/secret",
      alertWebhookTimeoutMs: 250,
      alertMaxAttempts: 3,
      alertRetryBaseMs: 20,
      alertRetryMaxMs: 80,
      alertQueueSize: 5,
      alertDebounceMs: 0,
    });
  });

  test("values from the environment", () => {
    const ops = loadOpsEnv({
      env: { RECONCILE_ENABLED: "true", RECONCILE_INTERVAL_SECONDS: "60", ADMIN_TOKEN: "0123456789abcdef", HEALTH_MAX_LAG_BLOCKS: "0", RECONCILE_RPC_URL: "https://rpc.example" },
    });
    expect(ops).toMatchObject({ reconcileEnabled: true, reconcileIntervalMs: 60_000, adminToken: "0123456789abcdef", maxLagBlocks: 0, reconcileRpcUrl: "https://rpc.example" });
  });

  test.each([
    [{ HEALTH_MAX_LAG_BLOCKS: "ten" }, 'HEALTH_MAX_LAG_BLOCKS must be a whole number, got "ten".'],
    [{ HEALTH_RPC_TIMEOUT_MS: "10" }, "HEALTH_RPC_TIMEOUT_MS must be between 50 and 60000, got 10."],
    [{ HEALTH_SAMPLE_INTERVAL_MS: "-5" }, 'HEALTH_SAMPLE_INTERVAL_MS must be a whole number, got "-5".'],
    [{ RECONCILE_ENABLED: "maybe" }, 'RECONCILE_ENABLED must be true or false, got "maybe".'],
    [{ RECONCILE_INTERVAL_SECONDS: "0" }, "RECONCILE_INTERVAL_SECONDS must be between 1 and 604800, got 0."],
    [{ ADMIN_TOKEN: "short" }, "ADMIN_TOKEN must be at least 16 characters long (use `openssl rand -hex 32`)."],
    [{ RECONCILE_RPC_URL: "ws://node:8546" }, 'RECONCILE_RPC_URL must use http: or https:, got "ws://node:8546".'],
    [{ FINALITY_BLOCKS: "0" }, "FINALITY_BLOCKS must be between 1 and 100000, got 0."],
    // The webhook URL is never echoed: it often holds a token.
    [{ ALERT_WEBHOOK_URL: "hooks.example/secret-token" }, "ALERT_WEBHOOK_URL is not a valid URL (its value is not shown: it may hold a secret)."],
    [{ ALERT_WEBHOOK_URL: "ftp://hooks.example/secret-token" }, 'ALERT_WEBHOOK_URL must use http: or https:, got "ftp:".'],
    [{ ALERT_WEBHOOK_TIMEOUT_MS: "50" }, "ALERT_WEBHOOK_TIMEOUT_MS must be between 100 and 60000, got 50."],
    [{ ALERT_MAX_ATTEMPTS: "0" }, "ALERT_MAX_ATTEMPTS must be between 1 and 20, got 0."],
    [{ ALERT_MAX_ATTEMPTS: "100" }, "ALERT_MAX_ATTEMPTS must be between 1 and 20, got 100."],
    [{ ALERT_QUEUE_SIZE: "0" }, "ALERT_QUEUE_SIZE must be between 1 and 10000, got 0."],
    [{ ALERT_RETRY_BASE_MS: "5000", ALERT_RETRY_MAX_MS: "1000" }, "ALERT_RETRY_MAX_MS (1000) is below ALERT_RETRY_BASE_MS (5000): raise it or lower ALERT_RETRY_BASE_MS."],
    [{ ALERT_DEBOUNCE_MS: "soon" }, 'ALERT_DEBOUNCE_MS must be a whole number, got "soon".'],
  ])("%j is refused with a clear error", (env, message) => {
    expect(() => loadOpsEnv({ env })).toThrow(new ConfigError(message));
  });
});

test("servedSchema reads --schema, then DATABASE_SCHEMA, else says what to do", () => {
  expect(servedSchema(["node", "ponder", "serve", "--schema", "jenga_live"], {})).toBe("jenga_live");
  expect(servedSchema(["node", "ponder", "start"], { DATABASE_SCHEMA: "jenga" })).toBe("jenga");
  expect(() => servedSchema(["node", "ponder", "start"], {})).toThrow(/run Ponder with --schema/);
  // `ponder dev` (npm run dev) serves "public" unless told otherwise.
  expect(servedSchema(["node", "ponder", "dev", "--disable-ui"], {})).toBe("public");
});

describe("ReorgWatcher on a scripted chain", () => {
  /** A chain whose block hashes encode a fork label, so a reorg changes them from a height on. */
  function scriptedChain() {
    let height = 0n;
    const forks: { from: bigint; label: string }[] = [];
    const hash = (n: bigint): Hex => {
      const label = [...forks].reverse().find((f) => n >= f.from)?.label ?? "0";
      return `0x${label.padStart(4, "0")}${n.toString(16).padStart(60, "0")}`;
    };
    const block = (n: bigint) => ({ number: n, hash: hash(n), parentHash: n === 0n ? hash(0n) : hash(n - 1n), timestamp: n });
    return {
      mine: (blocks: number) => (height += BigInt(blocks)),
      reorg: (depth: number, label: string) => forks.push({ from: height - BigInt(depth) + 1n, label }),
      head: () => block(height),
      getBlock: async (n: bigint) => block(n),
    };
  }

  test("measures the depth of a reorg inside the window, and flags one beyond it", async () => {
    const chain = scriptedChain();
    const watcher = new ReorgWatcher({ finalityBlocks: 10, getBlock: chain.getBlock });
    chain.mine(20);
    await watcher.observe(chain.head());
    chain.mine(3);
    await watcher.observe(chain.head());
    expect(watcher.seen).toBe(0);

    chain.reorg(4, "a");
    await watcher.observe(chain.head());
    expect(watcher).toMatchObject({ seen: 1, deepest: 4, unrecoverable: false, last: { depth: 4, commonAncestor: "19", beyondWindow: false } });

    // Replaced and longer: the new chain outgrows the old one before the watcher looks.
    chain.reorg(2, "b");
    chain.mine(5);
    await watcher.observe(chain.head());
    expect(watcher).toMatchObject({ seen: 2, deepest: 4, last: { depth: 2, commonAncestor: "21" } });

    chain.reorg(20, "c");
    await watcher.observe(chain.head());
    expect(watcher).toMatchObject({ seen: 3, deepest: 15, unrecoverable: true, last: { depth: 15, commonAncestor: null, beyondWindow: true } });
  });
});

test("healthMetrics renders every gauge, one status set to 1", () => {
  const health: SyncHealth = {
    status: "lagging",
    reasons: ["12 blocks behind the head (threshold 10)"],
    checkedAt: "2026-11-25T19:00:00.000Z",
    chain: { reachable: true, head: "112", headTimestamp: "1795630000", rpcMs: 3 },
    indexed: { block: "100", timestamp: "1795629976", lastAdvancedAt: "2026-11-25T19:00:00.000Z" },
    lag: { blocks: 12, seconds: 24 },
    sync: { mode: "realtime", ready: true, startBlock: "1", progress: 0.8919 },
    reorgs: { seen: 1, deepest: 2, last: null, unrecoverable: false, watchingSince: "2026-11-25T18:00:00.000Z", windowBlocks: 35 },
    lastReconciliation: null,
    thresholds: { maxLagBlocks: 10, maxLagSeconds: 120, stallSeconds: 300, finalityBlocks: 30, rpcTimeoutMs: 2_000 },
    lagHistory: [],
  };
  const text = healthMetrics(health);
  expect(text).toContain('jenga_sync_status{status="lagging"} 1\njenga_sync_status{status="stalled"} 0');
  expect(text).toContain("jenga_chain_head_block 112\n");
  expect(text).toContain("jenga_indexed_block 100\n");
  expect(text).toContain("jenga_lag_blocks 12\n");
  expect(text).toContain("jenga_lag_seconds 24\n");
  expect(text).toContain("jenga_reorgs_seen 1\n");
  expect(text).toContain("jenga_reorg_deepest_blocks 2\n");
  expect(text).toContain("jenga_reconcile_discrepancies NaN\n");
  expect(text.match(/^# TYPE /gm)).toHaveLength(15);
});

describe("HealthMonitor status rules", () => {
  /** A JSON-RPC server whose head is whatever `state.head` says (blocks hash as their number). */
  async function fakeRpc(state: { head: bigint }) {
    const port = await getFreePort();
    const block = (n: bigint) => ({
      number: numberToHex(n),
      hash: numberToHex(n, { size: 32 }),
      parentHash: numberToHex(n > 0n ? n - 1n : 0n, { size: 32 }),
      timestamp: numberToHex(1_700_000_000n + n * 2n),
      transactions: [],
    });
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        const parsed = JSON.parse(body) as RpcRequest | RpcRequest[];
        const answer = (r: RpcRequest) => ({
          jsonrpc: "2.0",
          id: r.id,
          result: block(r.params[0] === "latest" ? state.head : hexToBigInt(r.params[0] as Hex)),
        });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(answer) : answer(parsed)));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
  type RpcRequest = { id: number; method: string; params: unknown[] };

  test("lagging, stalled after HEALTH_STALL_SECONDS, diverged when ahead or when reconciliation differs", async () => {
    const state = { head: 100n };
    const rpc = await fakeRpc(state);
    let index: IndexState = { block: 50n, timestamp: 1_700_000_100n, ready: true };
    let report: ReconcileReport | undefined;
    const monitor = new HealthMonitor({
      ops: { ...loadOpsEnv({ env: {} }), stallSeconds: 1, rpcTimeoutMs: 500 },
      rpcUrl: rpc.url,
      startBlock: 0,
      readIndex: async () => index,
      reconcile: async () => report!,
    });
    try {
      const lagging = await monitor.check();
      expect(lagging).toMatchObject({ status: "lagging", lag: { blocks: 50, seconds: 100 }, reasons: ["50 blocks behind the head (threshold 10)"] });

      // Same indexed block, the head moved on, HEALTH_STALL_SECONDS later: stalled.
      state.head = 101n;
      await waitFor({ what: "the stall threshold", timeoutMs: 5_000, intervalMs: 100, check: async () => ((await monitor.check()).status === "stalled" ? true : undefined) });
      const stalled = await monitor.check();
      expect(stalled.reasons).toContainEqual(expect.stringMatching(/^the indexed block 50 has not moved for \d+ s \(threshold 1\)$/));

      // Caught up: ok. Ahead of the head: diverged.
      index = { block: 101n, timestamp: 1_700_000_202n, ready: true };
      expect(await monitor.check()).toMatchObject({ status: "ok", reasons: [], lag: { blocks: 0, seconds: 0 } });
      index = { block: 105n, timestamp: 1_700_000_210n, ready: true };
      expect((await monitor.check()).status).toBe("diverged");

      // A reconciliation with differences makes it diverged and shows in the health.
      index = { block: 101n, timestamp: 1_700_000_202n, ready: true };
      report = {
        ok: false, block: "101", blockTimestamp: "1700000202", startedAt: "2026-11-25T19:00:00.000Z", durationMs: 12,
        rows: { chamas: 1, members: 1, contributions: 1, payouts: 0 }, logs: 2, rpc: { calls: 5, httpRequests: 2 },
        phasesMs: { readIndex: 1, logs: 1, chamaViews: 1, memberViews: 1, ledger: 0 }, discrepancyCount: 1,
        discrepancies: [{ kind: "extra_in_db", table: "contribution", key: "0xab:0", db: { amount: "1" }, chain: null }],
        ledger: { skipped: "no ledger in this test" },
      };
      await monitor.reconcile();
      const diverged = await monitor.check();
      expect(diverged).toMatchObject({ status: "diverged", lastReconciliation: { ok: false, block: "101", discrepancyCount: 1 } });
      expect(diverged.reasons).toEqual(["the last reconciliation (block 101) found 1 differences from the chain"]);

      // Backfilling is lagging, with progress.
      report = { ...report, ok: true, discrepancyCount: 0, discrepancies: [] };
      await monitor.reconcile();
      index = { block: 25n, timestamp: 1_700_000_050n, ready: false };
      expect(await monitor.check()).toMatchObject({ status: "lagging", sync: { mode: "backfilling", ready: false, progress: 0.2475 } });
    } finally {
      monitor.stop();
      await rpc.close();
    }
  });

  test("an RPC that does not answer is reported as stalled within the timeout", async () => {
    const silent = createServer(() => undefined);
    const port = await getFreePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    const monitor = new HealthMonitor({
      ops: { ...loadOpsEnv({ env: {} }), rpcTimeoutMs: 300 },
      rpcUrl: `http://127.0.0.1:${port}`,
      startBlock: 0,
      readIndex: async () => ({ block: 10n, timestamp: 1n, ready: true }),
      reconcile: () => Promise.reject(new Error("unused")),
    });
    const started = Date.now();
    const health = await monitor.check();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(health).toMatchObject({ status: "stalled", chain: { reachable: false }, lag: null, indexed: { block: "10" } });
    expect(health.reasons[0]).toMatch(/^the RPC did not answer within 300 ms/);
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});
