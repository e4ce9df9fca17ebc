/**
 * The operator settings (health thresholds, reconciliation, admin token) and the pieces of the
 * health logic that need no processes: defaults, exact errors for bad values, the reorg watcher on
 * a scripted chain, and the Prometheus text.
 */
import type { Hex } from "viem";
import { describe, expect, test } from "vitest";
import { servedSchema } from "../src/api/ops";
import { ConfigError, loadOpsEnv } from "../src/env";
import { ReorgWatcher, type SyncHealth, healthMetrics } from "../src/health";

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
  ])("%j is refused with a clear error", (env, message) => {
    expect(() => loadOpsEnv({ env })).toThrow(new ConfigError(message));
  });
});

test("servedSchema reads --schema, then DATABASE_SCHEMA, else says what to do", () => {
  expect(servedSchema(["node", "ponder", "serve", "--schema", "jenga_live"], {})).toBe("jenga_live");
  expect(servedSchema(["node", "ponder", "start"], { DATABASE_SCHEMA: "jenga" })).toBe("jenga");
  expect(() => servedSchema(["node", "ponder", "start"], {})).toThrow(/run Ponder with --schema/);
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
