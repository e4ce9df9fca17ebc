/** `/sync-health/metrics`: the health as Prometheus gauges (Ponder keeps `/metrics` to itself),
 * with the transaction ledger's counts and the alerts' delivery counters when present. */
import { ALERT_KINDS, HEALTH_STATUSES, type SyncHealth } from "../common/ops-api";

/** The health as Prometheus gauges (text exposition format). */
export function healthMetrics(health: SyncHealth): string {
  const lines: string[] = [];
  const metric = (type: "gauge" | "counter") => (name: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const gauge = metric("gauge");
  const counter = metric("counter");
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
  const ledger = health.ledger;
  if (ledger) {
    const read = !("error" in ledger);
    gauge("jenga_ledger_up", "1 when the transaction ledger's database answered", [["", read ? 1 : 0]]);
    if (read) {
      gauge("jenga_ledger_pending", "Ledger records pending (broadcast, not mined), every user's", [["", ledger.pending]]);
      gauge("jenga_ledger_drafts", "Ledger records recorded but not broadcast yet", [["", ledger.drafts]]);
      gauge("jenga_ledger_failed_last_24h", "Ledger records that became failed in the last 24 hours", [["", ledger.failedLast24h]]);
      gauge("jenga_ledger_oldest_pending_seconds", "Age of the oldest draft or pending ledger record (0: none)", [["", ledger.oldestPendingSeconds ?? 0]]);
      gauge("jenga_ledger_rebroadcasts", "Rebroadcasts of raw transactions by the ledger, all time", [["", ledger.rebroadcasts]]);
      gauge("jenga_ledger_follower", "1 when this process runs the ledger's follower (with replicas exactly one does)", [["", ledger.follower === "leader" ? 1 : 0]]);
    }
  }
  const alerting = health.alerting;
  if (alerting) {
    gauge("jenga_alerts_posting", "1 when this process raises alerts (it runs the ledger's follower, or there is no ledger)", [["", alerting.posting ? 1 : 0]]);
    counter("jenga_alerts_raised_total", "Alerts raised by this process since it started", ALERT_KINDS.map((k) => [`{kind="${k}"}`, alerting.raisedByKind[k]]));
    counter("jenga_alert_deliveries_total", "Alerts by how their webhook delivery ended", [
      ['{result="delivered"}', alerting.delivered],
      ['{result="failed"}', alerting.failed],
      ['{result="dropped"}', alerting.dropped],
    ]);
    gauge("jenga_alert_queue_length", "Alerts waiting for webhook delivery", [["", alerting.queued]]);
  }
  return `${lines.join("\n")}\n`;
}
