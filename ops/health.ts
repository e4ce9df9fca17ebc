/**
 * The health monitor behind `GET /sync-health`: it samples the chain's head and the indexer's
 * checkpoint (in the background and on request), feeds the reorg watch (`reorg-watcher.ts`) and
 * the lag history (`lag-history.ts`), keeps the last reconciliation, and leaves the status and
 * its reasons to `assess()` (`health-assess.ts`, where every status rule lives).
 *
 * Every RPC call has a short timeout: a slow or dead RPC is reported, never waited on.
 */
import { createPublicClient, http } from "viem";
import type { OpsEnv } from "../config/env";
import type { ReconciliationSummary, SyncHealth } from "../common/ops-api";
import type { ReconcileReport } from "./reconcile";
import { errorMessage } from "../common/errors";
import { type IndexState, type Unread, assess, isUnread, measureLag, measureSync } from "./health-assess";
import { LagHistory } from "./lag-history";
import { type ChainBlock, ReorgWatcher } from "./reorg-watcher";

export type { HealthStatus, ReconciliationSummary, Reorg, SyncHealth } from "../common/ops-api";
export { HEALTH_STATUSES } from "../common/ops-api";
export type { IndexState } from "./health-assess";

export type HealthMonitorParameters = {
  ops: OpsEnv;
  rpcUrl: string;
  startBlock: number;
  /** Reads the indexer's checkpoint and readiness; throws when the database cannot be read. */
  readIndex: () => Promise<IndexState | undefined>;
  /** Runs one reconciliation (periodically when RECONCILE_ENABLED, and on demand). */
  reconcile: () => Promise<ReconcileReport>;
  /** Called with every sample (the alert rules, ./alerts.ts). */
  onSample?: (health: SyncHealth) => void;
  /** Called with every finished reconciliation. */
  onReconciled?: (report: ReconcileReport) => void;
};

/** What one sample read: the head (or why not), the index (or why not), and the RPC's time. */
type Reading = { now: number; rpcMs: number; head: ChainBlock | Unread; index: IndexState | undefined | Unread };

/** Samples the chain and the index in the background and answers /sync-health. */
export class HealthMonitor {
  private readonly client;
  private readonly watcher: ReorgWatcher;
  private readonly history: LagHistory;
  private readonly thresholds: SyncHealth["thresholds"];
  private readonly watchingSince = new Date().toISOString();
  private lastIndexed: { block: bigint; since: number } | undefined;
  private lastReconciliation: ReconciliationSummary | null = null;
  private running: Promise<ReconcileReport> | undefined;
  private sampling: Promise<SyncHealth> | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly params: HealthMonitorParameters) {
    const { ops } = params;
    this.client = createPublicClient({
      transport: http(params.rpcUrl, { timeout: ops.rpcTimeoutMs, retryCount: 0, batch: true }),
    });
    this.watcher = new ReorgWatcher({
      finalityBlocks: ops.finalityBlocks,
      getBlock: async (n) => this.client.getBlock({ blockNumber: n }),
    });
    this.history = new LagHistory({ sampleIntervalMs: ops.sampleIntervalMs });
    const { maxLagBlocks, maxLagSeconds, stallSeconds, finalityBlocks, rpcTimeoutMs } = ops;
    this.thresholds = { maxLagBlocks, maxLagSeconds, stallSeconds, finalityBlocks, rpcTimeoutMs };
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
    this.running ??= this.params
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
          ledger: report.ledger,
        };
        this.params.onReconciled?.(report);
        return report;
      })
      .catch((error: unknown) => {
        this.lastReconciliation = { at: new Date().toISOString(), ok: false, error: errorMessage(error) };
        throw error;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Samples now (or joins a sample in flight) and returns the health. */
  check(): Promise<SyncHealth> {
    this.sampling ??= this.sample().then((health) => {
      this.params.onSample?.(health);
      return health;
    }).finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  /** Reads the head and the index at once, then feeds the head to the reorg watch. */
  private async read(): Promise<Reading> {
    const now = Date.now();
    const [headResult, indexResult] = await Promise.allSettled([this.client.getBlock({ blockTag: "latest" }), this.params.readIndex()]);
    const rpcMs = Date.now() - now;
    const index = indexResult.status === "fulfilled" ? indexResult.value : { error: errorMessage(indexResult.reason) };
    if (headResult.status === "rejected") {
      const reason: unknown = headResult.reason;
      return { now, rpcMs, index, head: { error: reason instanceof Error ? reason.message.split("\n")[0]! : String(reason) } };
    }
    try {
      await this.watcher.observe(headResult.value);
    } catch {
      // A failed watch step is retried at the next sample; the head itself was read.
    }
    return { now, rpcMs, index, head: headResult.value };
  }

  private async sample(): Promise<SyncHealth> {
    const { now, rpcMs, head, index } = await this.read();
    const indexed = index === undefined || isUnread(index) ? undefined : index;
    const chainHead = isUnread(head) ? undefined : head;
    if (indexed && this.lastIndexed?.block !== indexed.block) this.lastIndexed = { block: indexed.block, since: now };
    const since = this.lastIndexed?.since ?? now;
    const lag = indexed && chainHead ? measureLag({ index: indexed, head: chainHead }) : null;
    this.history.record({ at: now, lag });
    const startBlock = BigInt(this.params.startBlock);
    const reorgs = this.reorgs();
    const { status, reasons } = assess({
      thresholds: this.thresholds,
      head,
      index,
      startBlock,
      stuckMs: now - since,
      reorgs,
      lastReconciliation: this.lastReconciliation,
    });
    return {
      status,
      reasons,
      checkedAt: new Date(now).toISOString(),
      chain: isUnread(head)
        ? { reachable: false, error: head.error, rpcMs }
        : { reachable: true, head: head.number.toString(), headTimestamp: head.timestamp.toString(), rpcMs },
      indexed: indexed ? { block: indexed.block.toString(), timestamp: indexed.timestamp.toString(), lastAdvancedAt: new Date(since).toISOString() } : null,
      lag,
      sync: indexed ? measureSync({ index: indexed, head: chainHead, startBlock }) : null,
      reorgs,
      lastReconciliation: this.lastReconciliation,
      thresholds: this.thresholds,
      lagHistory: this.history.toJSON(),
    };
  }

  /** What the reorg watch has seen since this process started. */
  private reorgs(): SyncHealth["reorgs"] {
    const { seen, deepest, last, unrecoverable, window } = this.watcher;
    return { seen, deepest, last, unrecoverable, watchingSince: this.watchingSince, windowBlocks: window };
  }
}
