/** The operator page: pending and failed transactions (this client's sync store), the last sync
 * and discrepancies (the indexer's /sync-health, and this client's own), the overall status with
 * its reasons, and the lag over the last hour. The status is the indexer's own word only while
 * its answer is fresh and the indexer reachable; otherwise it is "unknown", with the reason. */
import type { ReactNode } from "react";
import { useApp } from "../appContext";
import { ago } from "../format";
import { useHealth } from "../sync/react";
import { useNow } from "./SyncHealthPanel";
import { LagChart } from "./LagChart";
import { type IndexerHealth, useIndexerHealth } from "../hooks/useIndexerHealth";
import { useBrowserOnline } from "../hooks/useBrowserOnline";
import { type OperatorStatus, operatorStatus } from "../status";

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
  const browserOnline = useBrowserOnline();
  const indexer = useIndexerHealth({ url: config.indexerUrl });
  const health = indexer.kind === "data" ? indexer.data : indexer.kind === "error" ? indexer.last : undefined;
  const answeredAt = indexer.kind === "data" ? indexer.fetchedAt : indexer.kind === "error" ? indexer.lastAt : undefined;
  const status = operatorStatus({
    answer: health,
    answeredAt,
    fetchFailed: indexer.kind === "error",
    indexerOnline: client.indexerOnline,
    browserOnline,
    now,
  });
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
          {indexer.last && indexer.lastAt !== undefined ? ` (below: the last answer, ${ago(now - indexer.lastAt)})` : ""}
        </p>
      ) : status.kind === "unknown" ? (
        <p className="error" data-testid="operator-error">
          {status.reason}
          {status.lastAnswerAt !== undefined ? ` (below: the last answer, ${ago(now - status.lastAnswerAt)})` : ""}
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

      {status.kind === "loading" ? null : <StatusPanel status={status} health={health} now={now} />}
    </div>
  );
}

/** The overall status. While it is known: the indexer's word, its reasons and the lag. While it
 * is not: "unknown" with the reason, and the last answer shown as old (its age on every line). */
function StatusPanel({ status, health, now }: { status: Exclude<OperatorStatus, { kind: "loading" }>; health: IndexerHealth | undefined; now: number }) {
  const known = status.kind === "known";
  const label = known ? status.status : `unknown (${status.reason})`;
  const asOf = known ? undefined : status.lastAnswerAt !== undefined ? `as of ${ago(now - status.lastAnswerAt)}` : undefined;
  return (
    <section className="panel" data-testid="op-status-panel" data-known={known}>
      <h2>
        Status{" "}
        <span className={`status status-${known ? status.status : "unknown"}`} data-testid="op-status">
          {label}
        </span>{" "}
        <span className="muted small" data-testid="op-status-age">
          {known ? `checked ${ago(now - status.checkedAt)}` : asOf ? `last answer ${asOf}` : "no answer yet"}
        </span>
      </h2>
      {!known ? (
        <p className="small" data-testid="op-unknown">
          {health
            ? "The indexer's status is not known now; what follows is its last answer, not the present."
            : "The indexer has not answered since this page opened."}
        </p>
      ) : health && health.reasons.length > 0 ? (
        <ul data-testid="op-reasons">
          {health.reasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No reasons: the index is at the head and agrees with the chain.</p>
      )}
      {health ? (
        <>
          <p className="small" data-testid="op-lag">
            {known ? "Lag now: " : `Lag ${asOf ?? ""}: `}
            {health.lag ? `${health.lag.blocks} blocks, ${health.lag.seconds} s` : "unknown"}
            {health.chain.reachable ? ` · chain head ${health.chain.head}` : ` · chain unreachable: ${health.chain.error}`}
            {health.indexed ? ` · indexed ${health.indexed.block}` : ""}
          </p>
          <h3>Lag over the last hour{asOf ? ` (${asOf})` : ""}</h3>
          <LagChart samples={health.lagHistory} asOf={asOf} />
        </>
      ) : null}
    </section>
  );
}
