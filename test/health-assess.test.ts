/**
 * The status rules of `/sync-health` on plain inputs: each status, each reason sentence (the web
 * app and the operators' docs quote them), and which finding wins when several apply.
 */
import { describe, expect, test } from "vitest";
import type { ReconciliationSummary } from "../common/ops-api";
import { type AssessParameters, assess, measureLag, measureSync } from "../ops/health-assess";

const HEAD_TIME = 1_700_000_200n;

/** A sample with the index caught up at block 100 in realtime, no reorgs and no reconciliation,
 * with `overrides` on top. */
function sample(overrides: Partial<AssessParameters> = {}): AssessParameters {
  return {
    thresholds: { maxLagBlocks: 10, maxLagSeconds: 120, stallSeconds: 300, finalityBlocks: 30, rpcTimeoutMs: 2_000 },
    head: { number: 100n, timestamp: HEAD_TIME },
    index: { block: 100n, timestamp: HEAD_TIME, ready: true },
    startBlock: 0n,
    stuckMs: 0,
    reorgs: { unrecoverable: false, deepest: 0, last: null },
    lastReconciliation: null,
    ...overrides,
  };
}

/** A reconciliation that ran at block 101 and found `discrepancyCount` differences. */
function reconciliation(discrepancyCount: number): ReconciliationSummary {
  return { at: "2026-11-25T19:00:00.000Z", ok: discrepancyCount === 0, block: "101", durationMs: 12, discrepancyCount, discrepancies: [], rpc: { calls: 5, httpRequests: 2 } };
}

describe("assess", () => {
  test("ok: caught up, nothing to report", () => {
    expect(assess(sample())).toEqual({ status: "ok", reasons: [] });
  });

  test("ok: a long-unmoved indexed block is no stall while the chain has not moved either", () => {
    expect(assess(sample({ stuckMs: 3_600_000 }))).toEqual({ status: "ok", reasons: [] });
  });

  test("ok: lag at the thresholds, and a stall just under its threshold", () => {
    const index = { block: 90n, timestamp: HEAD_TIME - 120n, ready: true };
    expect(assess(sample({ index, stuckMs: 299_999 }))).toEqual({ status: "ok", reasons: [] });
  });

  test("ok: a clean reconciliation, and one that could not run, change nothing", () => {
    expect(assess(sample({ lastReconciliation: reconciliation(0) }))).toEqual({ status: "ok", reasons: [] });
    expect(assess(sample({ lastReconciliation: { at: "2026-11-25T19:00:00.000Z", ok: false, error: "the RPC refused" } }))).toEqual({ status: "ok", reasons: [] });
  });

  test("lagging: more blocks behind than HEALTH_MAX_LAG_BLOCKS", () => {
    expect(assess(sample({ index: { block: 89n, timestamp: HEAD_TIME - 22n, ready: true } }))).toEqual({
      status: "lagging",
      reasons: ["11 blocks behind the head (threshold 10)"],
    });
  });

  test("lagging: more seconds behind than HEALTH_MAX_LAG_SECONDS", () => {
    expect(assess(sample({ index: { block: 99n, timestamp: HEAD_TIME - 121n, ready: true } }))).toEqual({
      status: "lagging",
      reasons: ["121 s behind the head (threshold 120)"],
    });
  });

  test("lagging: backfilling, with the share of blocks done, and the lag beside it", () => {
    expect(assess(sample({ index: { block: 25n, timestamp: HEAD_TIME - 150n, ready: false } }))).toEqual({
      status: "lagging",
      reasons: ["backfilling: 25.00% of blocks 0..100", "75 blocks behind the head (threshold 10)", "150 s behind the head (threshold 120)"],
    });
  });

  test("stalled: the indexed block has not moved for HEALTH_STALL_SECONDS while the head is ahead", () => {
    const index = { block: 95n, timestamp: HEAD_TIME - 10n, ready: true };
    expect(assess(sample({ index, stuckMs: 300_000 }))).toEqual({
      status: "stalled",
      reasons: ["the indexed block 95 has not moved for 300 s (threshold 300)"],
    });
    expect(assess(sample({ index, stuckMs: 301_499 })).reasons).toEqual(["the indexed block 95 has not moved for 301 s (threshold 300)"]);
  });

  test("stalled: the RPC did not answer; the index alone gives no lag", () => {
    expect(assess(sample({ head: { error: "The request took too long to respond." } }))).toEqual({
      status: "stalled",
      reasons: ["the RPC did not answer within 2000 ms: The request took too long to respond."],
    });
  });

  test("stalled: without a head, a backfill's progress runs to the indexed block", () => {
    expect(assess(sample({ head: { error: "fetch failed" }, index: { block: 25n, timestamp: 1n, ready: false } }))).toEqual({
      status: "stalled",
      reasons: ["the RPC did not answer within 2000 ms: fetch failed", "backfilling: 100.00% of blocks 0..25"],
    });
  });

  test("stalled: the index cannot be read", () => {
    expect(assess(sample({ index: { error: "connection refused" } }))).toEqual({
      status: "stalled",
      reasons: ["the index cannot be read: connection refused"],
    });
  });

  test("stalled: no checkpoint yet", () => {
    expect(assess(sample({ index: undefined }))).toEqual({ status: "stalled", reasons: ["the indexer has not written a checkpoint yet"] });
  });

  test("stalled: neither side can be read", () => {
    expect(assess(sample({ head: { error: "fetch failed" }, index: { error: "connection refused" } }))).toEqual({
      status: "stalled",
      reasons: ["the RPC did not answer within 2000 ms: fetch failed", "the index cannot be read: connection refused"],
    });
  });

  test("diverged: the index is ahead of the chain's head", () => {
    expect(assess(sample({ index: { block: 105n, timestamp: HEAD_TIME + 10n, ready: true }, stuckMs: 3_600_000 }))).toEqual({
      status: "diverged",
      reasons: ["the index is at block 105, ahead of the chain's head 100: the chain was reset or reorged below it"],
    });
  });

  test("diverged: an unrecoverable reorg, a lower bound when it went beyond the window", () => {
    const last = { detectedAt: "2026-11-25T19:00:00.000Z", depth: 35, commonAncestor: null, head: "100", beyondWindow: true };
    expect(assess(sample({ reorgs: { unrecoverable: true, deepest: 35, last } }))).toEqual({
      status: "diverged",
      reasons: [
        "unrecoverable reorg: the chain replaced at least 35 blocks, more than the 30-block finality window; the indexer keeps stale rows: run `npm run rebuild`",
      ],
    });
    const inside = { ...last, depth: 31, commonAncestor: "69", beyondWindow: false };
    expect(assess(sample({ reorgs: { unrecoverable: true, deepest: 31, last: inside } })).reasons).toEqual([
      "unrecoverable reorg: the chain replaced 31 blocks, more than the 30-block finality window; the indexer keeps stale rows: run `npm run rebuild`",
    ]);
  });

  test("diverged: the last reconciliation found differences", () => {
    expect(assess(sample({ lastReconciliation: reconciliation(3) }))).toEqual({
      status: "diverged",
      reasons: ["the last reconciliation (block 101) found 3 differences from the chain"],
    });
  });

  test("a recoverable reorg alone changes nothing", () => {
    const last = { detectedAt: "2026-11-25T19:00:00.000Z", depth: 2, commonAncestor: "98", head: "100", beyondWindow: false };
    expect(assess(sample({ reorgs: { unrecoverable: false, deepest: 2, last } }))).toEqual({ status: "ok", reasons: [] });
  });

  test("the worst finding wins, and every finding gives its sentence in check order", () => {
    const last = { detectedAt: "2026-11-25T19:00:00.000Z", depth: 40, commonAncestor: null, head: "100", beyondWindow: true };
    expect(
      assess(
        sample({
          index: { block: 50n, timestamp: HEAD_TIME - 100n, ready: true },
          stuckMs: 600_000,
          reorgs: { unrecoverable: true, deepest: 40, last },
          lastReconciliation: reconciliation(1),
        }),
      ),
    ).toEqual({
      status: "diverged",
      reasons: [
        "50 blocks behind the head (threshold 10)",
        "the indexed block 50 has not moved for 600 s (threshold 300)",
        "unrecoverable reorg: the chain replaced at least 40 blocks, more than the 30-block finality window; the indexer keeps stale rows: run `npm run rebuild`",
        "the last reconciliation (block 101) found 1 differences from the chain",
      ],
    });
    // Stalled beats lagging.
    expect(assess(sample({ index: { block: 50n, timestamp: HEAD_TIME, ready: false }, stuckMs: 600_000 })).status).toBe("stalled");
  });
});

describe("measureLag and measureSync", () => {
  test("lag is head minus indexed, never below 0", () => {
    expect(measureLag({ head: { number: 100n, timestamp: HEAD_TIME }, index: { block: 90n, timestamp: HEAD_TIME - 20n, ready: true } })).toEqual({ blocks: 10, seconds: 20 });
    expect(measureLag({ head: { number: 100n, timestamp: HEAD_TIME }, index: { block: 105n, timestamp: HEAD_TIME + 10n, ready: true } })).toEqual({ blocks: 0, seconds: 0 });
  });

  test("progress is the share of blocks from the start block to the head, 1 when there are none", () => {
    const head = { number: 101n, timestamp: HEAD_TIME };
    expect(measureSync({ head, startBlock: 1n, index: { block: 25n, timestamp: 1n, ready: false } })).toEqual({ mode: "backfilling", ready: false, startBlock: "1", progress: 0.24 });
    expect(measureSync({ head, startBlock: 200n, index: { block: 25n, timestamp: 1n, ready: true } })).toEqual({ mode: "realtime", ready: true, startBlock: "200", progress: 1 });
    expect(measureSync({ head: undefined, startBlock: 0n, index: { block: 0n, timestamp: 1n, ready: false } }).progress).toBe(1);
  });
});
