/** `/sync-health/metrics`: the health as Prometheus gauges (Ponder keeps `/metrics` to itself). */
import { HEALTH_STATUSES, type SyncHealth } from "../common/ops-api";

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
