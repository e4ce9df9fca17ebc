/**
 * Sync health: how far the index is behind the chain, whether it still moves, what reorgs the
 * chain went through, and what the last reconciliation found; folded into one status:
 *
 * - `diverged`: the index disagrees with the chain (a reconciliation found differences, a reorg
 *   deeper than the finality window was seen, or the index is ahead of the chain's head);
 * - `stalled`: the indexed block has not moved for HEALTH_STALL_SECONDS while the chain has, or
 *   the RPC or the database cannot be read;
 * - `lagging`: still backfilling, or behind by more than HEALTH_MAX_LAG_BLOCKS / _SECONDS;
 * - `ok`: none of the above.
 *
 * Every RPC call has a short timeout: a slow or dead RPC is reported, never waited on.
 */
import { type Hex, createPublicClient, http } from "viem";
import type { OpsEnv } from "../config/env";
import { HEALTH_STATUSES, type HealthStatus, type ReconciliationSummary, type Reorg, type SyncHealth } from "../common/ops-api";
import type { ReconcileReport } from "./reconcile";
import { errorMessage } from "../common/errors";

export type { HealthStatus, ReconciliationSummary, Reorg, SyncHealth } from "../common/ops-api";
export { HEALTH_STATUSES } from "../common/ops-api";

export type IndexState = { block: bigint; timestamp: bigint; ready: boolean };

type ChainBlock = { number: bigint; hash: Hex; parentHash: Hex; timestamp: bigint };

/** Watches the chain's recent blocks and measures reorgs: a window of finality + 5 block hashes,
 * compared with the chain on every sample. A reorg that leaves no common ancestor in the window is
 * deeper than the finality window: unrecoverable for the running indexer. */
export class ReorgWatcher {
  private readonly hashes = new Map<bigint, Hex>();
  readonly window: number;
  seen = 0;
  deepest = 0;
  last: Reorg | null = null;
  unrecoverable = false;

  constructor(private readonly params: { finalityBlocks: number; getBlock: (n: bigint) => Promise<ChainBlock> }) {
    this.window = params.finalityBlocks + 5;
  }

  /** Feeds the current head; fetches what it needs to keep the window contiguous. */
  async observe(head: ChainBlock): Promise<void> {
    const known = [...this.hashes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const top = known[known.length - 1];
    if (top !== undefined) {
      // Does the chain still hold the highest block we know (or the head, if the chain is shorter)?
      const probe = head.number < top ? head.number : top;
      const chainAtProbe = probe === head.number ? head : await this.params.getBlock(probe);
      const consistent = head.number >= top && chainAtProbe.hash === this.hashes.get(probe);
      if (!consistent) {
        // Walk down the known blocks until the chain agrees: that is the common ancestor.
        let ancestor: bigint | null = null;
        for (let i = known.length - 1; i >= 0; i--) {
          const n = known[i]!;
          if (n > head.number) continue;
          const chainBlock = n === probe ? chainAtProbe : await this.params.getBlock(n);
          if (chainBlock.hash === this.hashes.get(n)) {
            ancestor = n;
            break;
          }
        }
        const depth = Number(top - (ancestor ?? known[0]! - 1n));
        const beyondWindow = ancestor === null;
        this.seen += 1;
        this.deepest = Math.max(this.deepest, depth);
        if (beyondWindow || depth > this.params.finalityBlocks) this.unrecoverable = true;
        this.last = { detectedAt: new Date().toISOString(), depth, commonAncestor: ancestor?.toString() ?? null, head: head.number.toString(), beyondWindow };
        for (const n of known) if (ancestor === null || n > ancestor) this.hashes.delete(n);
      }
    }
    // Keep the window contiguous up to the head.
    const w = BigInt(this.window);
    const remaining = [...this.hashes.keys()];
    const newTop = remaining.length > 0 ? remaining.reduce((a, b) => (a > b ? a : b)) : undefined;
    let from = newTop === undefined ? head.number - w : newTop + 1n;
    if (from < head.number - w) from = head.number - w;
    if (from < 0n) from = 0n;
    const missing: bigint[] = [];
    for (let n = from; n < head.number; n++) missing.push(n);
    for (const block of await Promise.all(missing.map((n) => this.params.getBlock(n)))) this.hashes.set(block.number, block.hash);
    this.hashes.set(head.number, head.hash);
    for (const n of [...this.hashes.keys()]) if (n <= head.number - w) this.hashes.delete(n);
  }
}

export type HealthMonitorParameters = {
  ops: OpsEnv;
  rpcUrl: string;
  startBlock: number;
  /** Reads the indexer's checkpoint and readiness; throws when the database cannot be read. */
  readIndex: () => Promise<IndexState | undefined>;
  /** Runs one reconciliation (periodically when RECONCILE_ENABLED, and on demand). */
  reconcile: () => Promise<ReconcileReport>;
};

const HOUR_MS = 3_600_000;

/** Samples the chain and the index in the background and answers /sync-health. */
export class HealthMonitor {
  private readonly client;
  private readonly watcher: ReorgWatcher;
  private readonly watchingSince = new Date().toISOString();
  private lastIndexed: { block: bigint; since: number } | undefined;
  private history: { at: number; blocks: number; seconds: number }[] = [];
  private lastReconciliation: ReconciliationSummary | null = null;
  private running: Promise<ReconcileReport> | undefined;
  private sampling: Promise<SyncHealth> | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly params: HealthMonitorParameters) {
    this.client = createPublicClient({
      transport: http(params.rpcUrl, { timeout: params.ops.rpcTimeoutMs, retryCount: 0, batch: true }),
    });
    this.watcher = new ReorgWatcher({
      finalityBlocks: params.ops.finalityBlocks,
      getBlock: async (n) => this.client.getBlock({ blockNumber: n }),
    });
  }

  /** Starts the background sampler, and the periodic reconciliation when enabled. */
  start(): this {
    const sample = () => void this.check().catch(() => undefined);
    this.timers.push(setInterval(sample, this.params.ops.sampleIntervalMs).unref());
    sample();
    if (this.params.ops.reconcileEnabled) {
      const run = () => void this.reconcile().catch(() => undefined);
      this.timers.push(setInterval(run, this.params.ops.reconcileIntervalMs).unref());
    }
    return this;
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Runs a reconciliation, or joins the one already running, and records its outcome. */
  async reconcile(): Promise<ReconcileReport> {
    if (!this.running) {
      this.running = this.params
        .reconcile()
        .then((report) => {
          this.lastReconciliation = {
            at: report.startedAt,
            ok: report.ok,
            block: report.block,
            durationMs: report.durationMs,
            discrepancyCount: report.discrepancyCount,
            discrepancies: report.discrepancies.slice(0, 20),
            rpc: report.rpc,
          };
          return report;
        })
        .catch((error: unknown) => {
          this.lastReconciliation = { at: new Date().toISOString(), ok: false, error: errorMessage(error) };
          throw error;
        })
        .finally(() => {
          this.running = undefined;
        });
    }
    return this.running;
  }

  /** Samples now (or joins a sample in flight) and returns the health. */
  check(): Promise<SyncHealth> {
    this.sampling ??= this.sample().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async sample(): Promise<SyncHealth> {
    const { ops } = this.params;
    const now = Date.now();
    const reasons: string[] = [];

    const rpcStarted = Date.now();
    const [headResult, indexResult] = await Promise.allSettled([this.client.getBlock({ blockTag: "latest" }), this.params.readIndex()]);
    const rpcMs = Date.now() - rpcStarted;

    let chain: SyncHealth["chain"];
    let head: ChainBlock | undefined;
    if (headResult.status === "fulfilled") {
      head = headResult.value;
      chain = { reachable: true, head: head.number.toString(), headTimestamp: head.timestamp.toString(), rpcMs };
      try {
        await this.watcher.observe(head);
      } catch {
        // A failed watch step is retried at the next sample; the head itself was read.
      }
    } else {
      const message = headResult.reason instanceof Error ? headResult.reason.message.split("\n")[0]! : String(headResult.reason);
      chain = { reachable: false, error: message, rpcMs };
      reasons.push(`the RPC did not answer within ${ops.rpcTimeoutMs} ms: ${message}`);
    }

    let index: IndexState | undefined;
    if (indexResult.status === "fulfilled") {
      index = indexResult.value;
      if (!index) reasons.push("the indexer has not written a checkpoint yet");
    } else {
      const message = errorMessage(indexResult.reason);
      reasons.push(`the index cannot be read: ${message}`);
    }

    if (index && (!this.lastIndexed || this.lastIndexed.block !== index.block)) this.lastIndexed = { block: index.block, since: now };

    let lag: SyncHealth["lag"] = null;
    let sync: SyncHealth["sync"] = null;
    let stalled = !chain.reachable || indexResult.status === "rejected" || !index;
    let diverged = false;
    let lagging = false;
    if (index) {
      const start = BigInt(this.params.startBlock);
      const target = head?.number ?? index.block;
      const total = target - start;
      const done = index.block - start;
      const progress = total <= 0n ? 1 : Math.min(1, Math.max(0, Number((done * 10_000n) / total) / 10_000));
      sync = { mode: index.ready ? "realtime" : "backfilling", ready: index.ready, startBlock: start.toString(), progress };
      if (!index.ready) {
        lagging = true;
        reasons.push(`backfilling: ${(progress * 100).toFixed(2)}% of blocks ${start}..${target}`);
      }
    }
    if (index && head) {
      const blocks = head.number - index.block;
      const seconds = head.timestamp - index.timestamp;
      lag = { blocks: Number(blocks > 0n ? blocks : 0n), seconds: Number(seconds > 0n ? seconds : 0n) };
      // One sample per sampling interval, however often /sync-health is asked.
      const previous = this.history[this.history.length - 1];
      if (!previous || now - previous.at >= ops.sampleIntervalMs / 2) this.history.push({ at: now, blocks: lag.blocks, seconds: lag.seconds });
      if (blocks < 0n) {
        diverged = true;
        reasons.push(`the index is at block ${index.block}, ahead of the chain's head ${head.number}: the chain was reset or reorged below it`);
      }
      if (lag.blocks > ops.maxLagBlocks) {
        lagging = true;
        reasons.push(`${lag.blocks} blocks behind the head (threshold ${ops.maxLagBlocks})`);
      }
      if (lag.seconds > ops.maxLagSeconds) {
        lagging = true;
        reasons.push(`${lag.seconds} s behind the head (threshold ${ops.maxLagSeconds})`);
      }
      const stuckMs = now - (this.lastIndexed?.since ?? now);
      if (blocks > 0n && stuckMs >= ops.stallSeconds * 1_000) {
        stalled = true;
        reasons.push(`the indexed block ${index.block} has not moved for ${Math.round(stuckMs / 1_000)} s (threshold ${ops.stallSeconds})`);
      }
    }
    this.history = this.history.filter((h) => h.at >= now - HOUR_MS);

    if (this.watcher.unrecoverable) {
      diverged = true;
      const last = this.watcher.last;
      reasons.push(
        `unrecoverable reorg: the chain replaced ${last?.beyondWindow ? "at least " : ""}${this.watcher.deepest} blocks, more than the ${ops.finalityBlocks}-block finality window; ` +
          "the indexer keeps stale rows: run `npm run rebuild`",
      );
    }
    const last = this.lastReconciliation;
    if (last && "discrepancyCount" in last && last.discrepancyCount > 0) {
      diverged = true;
      reasons.push(`the last reconciliation (block ${last.block}) found ${last.discrepancyCount} differences from the chain`);
    }

    const status: HealthStatus = diverged ? "diverged" : stalled ? "stalled" : lagging ? "lagging" : "ok";
    return {
      status,
      reasons,
      checkedAt: new Date(now).toISOString(),
      chain,
      indexed: index
        ? { block: index.block.toString(), timestamp: index.timestamp.toString(), lastAdvancedAt: new Date(this.lastIndexed?.since ?? now).toISOString() }
        : null,
      lag,
      sync,
      reorgs: {
        seen: this.watcher.seen,
        deepest: this.watcher.deepest,
        last: this.watcher.last,
        unrecoverable: this.watcher.unrecoverable,
        watchingSince: this.watchingSince,
        windowBlocks: this.watcher.window,
      },
      lastReconciliation: this.lastReconciliation,
      thresholds: {
        maxLagBlocks: ops.maxLagBlocks,
        maxLagSeconds: ops.maxLagSeconds,
        stallSeconds: ops.stallSeconds,
        finalityBlocks: ops.finalityBlocks,
        rpcTimeoutMs: ops.rpcTimeoutMs,
      },
      lagHistory: this.history.map((h) => ({ at: new Date(h.at).toISOString(), blocks: h.blocks, seconds: h.seconds })),
    };
  }
}

/** The health as Prometheus gauges (text exposition format). */
export function healthMetrics(health: SyncHealth): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const num = (s: string | undefined) => (s === undefined ? Number.NaN : Number(s));
  gauge("jenga_sync_status", "1 for the current overall status", HEALTH_STATUSES.map((s) => [`{status="${s}"}`, health.status === s ? 1 : 0]));
  gauge("jenga_rpc_up", "1 when the RPC answered the last health check", [["", health.chain.reachable ? 1 : 0]]);
  gauge("jenga_chain_head_block", "Chain head block number from the RPC", [["", health.chain.reachable ? num(health.chain.head) : Number.NaN]]);
  gauge("jenga_indexed_block", "Block the indexer has processed", [["", num(health.indexed?.block)]]);
  gauge("jenga_indexed_block_timestamp_seconds", "Timestamp of the indexed block", [["", num(health.indexed?.timestamp)]]);
  gauge("jenga_lag_blocks", "Chain head minus indexed block", [["", health.lag?.blocks ?? Number.NaN]]);
  gauge("jenga_lag_seconds", "Head timestamp minus indexed block timestamp", [["", health.lag?.seconds ?? Number.NaN]]);
  gauge("jenga_sync_realtime", "1 when historical indexing is complete", [["", health.sync?.ready ? 1 : 0]]);
  gauge("jenga_sync_progress_ratio", "Share of blocks from the start block to the head that are indexed", [["", health.sync?.progress ?? Number.NaN]]);
  gauge("jenga_reorgs_seen", "Reorgs seen by this process since it started", [["", health.reorgs.seen]]);
  gauge("jenga_reorg_deepest_blocks", "Deepest reorg seen by this process", [["", health.reorgs.deepest]]);
  gauge("jenga_unrecoverable_reorg", "1 when a reorg deeper than the finality window was seen", [["", health.reorgs.unrecoverable ? 1 : 0]]);
  const last = health.lastReconciliation;
  gauge("jenga_reconcile_last_timestamp_seconds", "When the last reconciliation started", [["", last ? Math.floor(Date.parse(last.at) / 1_000) : Number.NaN]]);
  gauge("jenga_reconcile_discrepancies", "Differences found by the last reconciliation (-1: it failed)", [
    ["", last ? ("discrepancyCount" in last ? last.discrepancyCount : -1) : Number.NaN],
  ]);
  gauge("jenga_reconcile_duration_seconds", "Duration of the last reconciliation", [["", last && "durationMs" in last ? last.durationMs / 1_000 : Number.NaN]]);
  return `${lines.join("\n")}\n`;
}
