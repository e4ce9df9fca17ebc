/** The operator page: pending and failed transactions of every member (the ledger's counts on
 * /sync-health, with the stuck and failed actions themselves from GET /transactions), the last
 * sync and discrepancies (the indexer's /sync-health, and this client's own), the overall status
 * with its reasons, the alerts, and the lag over the last hour. The status is the indexer's own
 * word only while its answer is fresh and the indexer reachable; otherwise it is "unknown", with
 * the reason. A count the API does not give (no ledger, or its error) is "unknown", never 0. */
import type { ReactNode } from "react";
import type { LedgerHealth } from "../../../common/ledger-api";
import type { Alert } from "../../../common/ops-api";
import { duration, short } from "../format";
import { type LedgerListsState, useLedgerLists } from "../hooks/useLedger";
import type { Unit } from "../units";
import { LedgerLine } from "./LedgerRows";
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

/** The ledger's counts from /sync-health, or why they are not known. */
function ledgerCounts(health: IndexerHealth | undefined): { counts: LedgerHealth } | { unknown: string } {
  if (!health) return { unknown: "/sync-health has not answered" };
  const ledger = health.ledger;
  if (ledger === undefined) return { unknown: "this API keeps no transaction ledger (LEDGER_ENABLED=false)" };
  if ("error" in ledger) return { unknown: `the ledger could not be read: ${ledger.error}` };
  return { counts: ledger };
}

export function OperatorPage() {
  const { config, unit } = useApp();
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
  const ledger = ledgerCounts(health);
  const stale = status.kind === "unknown" && answeredAt !== undefined ? ` (as of ${ago(now - answeredAt)})` : "";
  // The lists are read again with each answer of /sync-health, so both are as old as each other.
  const lists = useLedgerLists(health?.checkedAt ?? "");
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
        {"counts" in ledger ? (
          <>
            <Card title="Pending transactions" testId="op-pending" value={ledger.counts.pending} warn={ledger.counts.oldestPendingSeconds !== null && ledger.counts.oldestPendingSeconds > 600}>
              every member's, from the ledger{stale}
              {ledger.counts.drafts > 0 ? `; plus ${ledger.counts.drafts} not sent yet` : ""}
              {ledger.counts.oldestPendingSeconds !== null ? `; oldest ${duration(ledger.counts.oldestPendingSeconds * 1000)}` : ""}
              {`; ${ledger.counts.rebroadcasts} rebroadcast${ledger.counts.rebroadcasts === 1 ? "" : "s"}; follower ${ledger.counts.follower ?? "unknown"}`}
              {ledger.counts.lastError ? <span className="error" data-testid="op-ledger-error">; last pass failed: {ledger.counts.lastError}</span> : null}
            </Card>
            <Card title="Failed transactions" testId="op-failed" value={ledger.counts.failedLast24h} warn={ledger.counts.failedLast24h > 0}>
              every member's in the last 24 h: reverted, rejected or timed out{stale}
            </Card>
          </>
        ) : (
          <>
            <Card title="Pending transactions" testId="op-pending" value="unknown" warn>
              {ledger.unknown}
            </Card>
            <Card title="Failed transactions" testId="op-failed" value="unknown" warn>
              {ledger.unknown}
            </Card>
          </>
        )}
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

      <LedgerLists lists={lists} now={now} unit={unit} />
      <Alerts health={health} stale={stale} now={now} />

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
        <span className={`status status-${known ? status.status : "unknown"}`} role="status" aria-live="polite" data-testid="op-status">
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

/** One list of ledger records, or why it cannot be shown. */
function EntryList(props: { testId: string; entries: LedgerListsState; pick: "stuck" | "failed"; empty: string; now: number; unit: Unit }) {
  const { entries, pick, now, unit } = props;
  const data = entries.kind === "data" ? entries : entries.kind === "error" ? entries.last : undefined;
  const rows = data ? data[pick] : [];
  return (
    <div data-testid={props.testId}>
      {entries.kind === "loading" ? <p className="muted small">Loading GET /transactions…</p> : null}
      {entries.kind === "no-ledger" ? <p className="warn small">unknown: {entries.error}</p> : null}
      {entries.kind === "error" ? (
        <p className="error small">
          unknown now: {entries.error}
          {data ? `; below, as of ${ago(now - data.at)}` : ""}
        </p>
      ) : null}
      {data && rows.length === 0 ? <p className="muted small">{props.empty}</p> : null}
      {rows.length > 0 ? (
        <ul className="ledger-list">
          {rows.map((entry) => (
            <li key={entry.hash} className={`ledger-row status-${entry.status}`} data-testid={`${props.testId}-row`} data-hash={entry.hash} data-status={entry.status}>
              <LedgerLine entry={entry} now={now} unit={unit} />
              {entry.chamaId !== null ? ` · #${entry.chamaId.toString()}` : ""}{" "}
              <code className="hash" title={entry.hash}>
                {short(entry.hash)}
              </code>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The oldest actions still open (stuck ones first) and the newest failures, every member's. */
function LedgerLists({ lists, now, unit }: { lists: LedgerListsState; now: number; unit: Unit }) {
  return (
    <section className="panel ledger-panel" data-testid="op-ledger">
      <h2>Stuck actions (oldest first)</h2>
      <EntryList testId="op-stuck" entries={lists} pick="stuck" empty="Nothing is waiting: no draft or pending action in the ledger." now={now} unit={unit} />
      <h2>Failed actions (newest first)</h2>
      <EntryList testId="op-failed-list" entries={lists} pick="failed" empty="No failed action in the ledger." now={now} unit={unit} />
    </section>
  );
}

/** The alerts /sync-health lists (newest first), or why there are none to show. */
function Alerts({ health, stale, now }: { health: IndexerHealth | undefined; stale: string; now: number }) {
  // External input: at most the 20 the API promises, each with a readable time.
  const alerts: Alert[] | undefined = Array.isArray(health?.alerts) ? health.alerts.slice(0, 20) : undefined;
  return (
    <section className="panel ledger-panel" data-testid="op-alerts">
      <h2>Alerts{stale}</h2>
      {!health ? (
        <p className="warn small">unknown: /sync-health has not answered</p>
      ) : alerts === undefined ? (
        <p className="warn small" data-testid="op-alerts-unknown">
          unknown: this API reports no alerts on /sync-health
        </p>
      ) : alerts.length === 0 ? (
        <p className="muted small" data-testid="op-alerts-none">
          No alerts.
        </p>
      ) : (
        <ul className="ledger-list">
          {alerts.map((alert) => (
            <li key={alert.id} data-testid="op-alert" data-kind={alert.kind} data-resolved={alert.resolved}>
              <span className={alert.resolved ? "alert-resolved" : "alert-open"}>{alert.resolved ? "resolved" : alert.kind}</span> {alert.message}{" "}
              <span className="muted small">
                {Number.isFinite(Date.parse(alert.at)) ? ago(now - Date.parse(alert.at)) : alert.at} · webhook {alert.delivery?.state ?? "unknown"}
                {alert.delivery?.state === "failed" && alert.delivery.lastError ? `: ${alert.delivery.lastError}` : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
