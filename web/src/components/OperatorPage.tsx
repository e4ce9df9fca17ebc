/** The operator page: pending and failed transactions (this client's sync store), the last sync
 * and discrepancies (the indexer's /sync-health, and this client's own), the overall status with
 * its reasons, and the lag over the last hour. */
import type { ReactNode } from "react";
import { useApp } from "../appContext";
import { ago } from "../format";
import { useHealth } from "../sync/react";
import { useNow } from "./SyncHealthPanel";
import { type IndexerHealth, useIndexerHealth } from "../hooks/useIndexerHealth";

function Card(props: { title: string; testId: string; value: ReactNode; warn?: boolean; children?: ReactNode }) {
  return (
    <section className="panel card" data-testid={props.testId}>
      <h3>{props.title}</h3>
      <p className={`card-value${props.warn ? " warn" : ""}`} data-testid={`${props.testId}-value`}>
        {props.value}
      </p>
      {props.children ? <div className="muted small">{props.children}</div> : null}
    </section>
  );
}

/** The indexer's side of the discrepancies card. */
function reconciliationText(health: IndexerHealth | undefined): { value: string; note: string; warn: boolean } {
  if (!health) return { value: "–", note: "indexer not answering", warn: false };
  const last = health.lastReconciliation;
  if (!last) return { value: "not run yet", note: "no reconciliation in this indexer process", warn: false };
  if (!("discrepancyCount" in last)) return { value: "failed", note: `${last.at}: ${last.error}`, warn: true };
  return { value: String(last.discrepancyCount), note: `at block ${last.block}, ${last.at}`, warn: last.discrepancyCount > 0 };
}

export function OperatorPage() {
  const { config } = useApp();
  const client = useHealth();
  const now = useNow();
  const indexer = useIndexerHealth({ url: config.indexerUrl, chainId: config.chainId });
  const health = indexer.kind === "data" ? indexer.data : indexer.kind === "error" ? indexer.last : undefined;
  const reconciliation = reconciliationText(health);
  // Block timestamps are seconds since the epoch: small enough for a Number.
  const syncAgeMs = health?.indexed ? now - Number(health.indexed.timestamp) * 1000 : undefined;

  return (
    <div data-testid="operator-page">
      <h1>Operator</h1>
      {indexer.kind === "loading" ? <p className="muted" data-testid="operator-loading">Loading /sync-health…</p> : null}
      {indexer.kind === "error" ? (
        <p className="error" data-testid="operator-error">
          {indexer.error}
          {indexer.last ? " (showing the last answer)" : ""}
        </p>
      ) : null}

      <div className="cards">
        <Card title="Pending transactions" testId="op-pending" value={client.pending}>
          this browser's sync store{client.drafts > 0 ? `, plus ${client.drafts} not sent yet` : ""}
        </Card>
        <Card title="Failed transactions" testId="op-failed" value={client.failed} warn={client.failed > 0}>
          reverted, rejected, timed out, dropped or replaced
        </Card>
        <Card
          title="Last sync"
          testId="op-last-sync"
          value={<span data-age-seconds={syncAgeMs === undefined ? "" : Math.max(0, Math.round(syncAgeMs / 1000))}>{syncAgeMs === undefined ? "–" : ago(syncAgeMs)}</span>}
        >
          {health?.indexed ? `block ${health.indexed.block} (block time)` : health ? "nothing indexed yet" : "from /sync-health"}
        </Card>
        <Card title="Discrepancies" testId="op-discrepancies" value={null}>
          <dl className="pairs">
            <dt>indexer (last reconciliation)</dt>
            <dd data-testid="op-discrepancies-indexer" className={reconciliation.warn ? "warn" : ""} title={reconciliation.note}>
              {reconciliation.value}
            </dd>
            <dt>this client</dt>
            <dd data-testid="op-discrepancies-client" className={client.discrepancies > 0 ? "warn" : ""}>
              {client.discrepancies}
            </dd>
          </dl>
        </Card>
      </div>

      {health ? <StatusPanel health={health} /> : null}
    </div>
  );
}

function StatusPanel({ health }: { health: IndexerHealth }) {
  return (
    <section className="panel">
      <h2>
        Status <span className={`status status-${health.status}`} data-testid="op-status">{health.status}</span>
      </h2>
      {health.reasons.length > 0 ? (
        <ul data-testid="op-reasons">
          {health.reasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No reasons: the index is at the head and agrees with the chain.</p>
      )}
      <p className="small" data-testid="op-lag">
        Lag now:{" "}
        {health.lag ? `${health.lag.blocks} blocks, ${health.lag.seconds} s` : "unknown"}
        {health.chain.reachable ? ` · chain head ${health.chain.head}` : ` · chain unreachable: ${health.chain.error}`}
        {health.indexed ? ` · indexed ${health.indexed.block}` : ""}
      </p>
      <h3>Lag over the last hour</h3>
      <LagChart samples={health.lagHistory} />
    </section>
  );
}

/** Two lines over the last hour (or since the indexer started, if sooner): lag in blocks and in
 * seconds, each scaled to its own maximum, over a zero baseline. */
function LagChart({ samples }: { samples: IndexerHealth["lagHistory"] }) {
  const width = 600;
  const height = 120;
  const top = 14;
  if (samples.length === 0) return <p className="muted" data-testid="lag-chart-empty">No samples yet.</p>;
  const times = samples.map((s) => Date.parse(s.at));
  const end = times[times.length - 1]!;
  const start = times[0]!;
  const maxBlocks = Math.max(1, ...samples.map((s) => s.blocks));
  const maxSeconds = Math.max(1, ...samples.map((s) => s.seconds));
  const x = (t: number) => ((t - start) / Math.max(1, end - start)) * width;
  const y = (value: number, max: number) => height - (value / max) * (height - top);
  const line = (value: (s: IndexerHealth["lagHistory"][number]) => number, max: number) =>
    samples.map((s, i) => `${x(times[i]!).toFixed(1)},${y(value(s), max).toFixed(1)}`).join(" ");
  const span = end - start;
  return (
    <svg
      className="chart lag-chart"
      viewBox={`0 0 ${width} ${height + 16}`}
      role="img"
      aria-label="Lag over the last hour"
      data-testid="lag-chart"
      data-samples={samples.length}
    >
      <line className="baseline" x1={0} y1={height} x2={width} y2={height} />
      <polyline className="lag-blocks" points={line((s) => s.blocks, maxBlocks)} />
      <polyline className="lag-seconds" points={line((s) => s.seconds, maxSeconds)} />
      <text x={4} y={10}>
        <tspan className="legend-blocks">— blocks (max {maxBlocks})</tspan> <tspan className="legend-seconds">- - seconds (max {maxSeconds})</tspan>
      </text>
      <text x={4} y={height + 12}>
        {span >= 60_000 ? `${Math.round(span / 60_000)} min ago` : `${Math.round(span / 1000)} s ago`}
      </text>
      <text x={width - 4} y={height + 12} textAnchor="end">
        now · {samples.length} samples
      </text>
    </svg>
  );
}
