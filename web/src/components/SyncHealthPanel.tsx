/** Pending and failed counts, indexed block against chain head, the age of the last indexed
 * block, and discrepancies between what was sent and what the chain recorded. */
import { useEffect, useState } from "react";
import { ago } from "../format";
import { useHealth } from "../sync/react";

/** Re-renders every second for the "x s ago" text. A display clock only: it sends nothing. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  return now;
}

function state(online: boolean | undefined): string {
  return online === undefined ? "checking…" : online ? "online" : "unreachable";
}

export function SyncHealthPanel() {
  const health = useHealth();
  const now = useNow();
  const lag = health.chainHead !== undefined && health.indexedBlock !== undefined ? health.chainHead - health.indexedBlock : undefined;
  return (
    <aside className="panel health" data-testid="sync-health">
      <h2>Sync health</h2>
      <dl>
        <dt>Drafts (not sent)</dt>
        <dd data-testid="health-drafts">{health.drafts}</dd>
        <dt>Pending</dt>
        <dd data-testid="health-pending">{health.pending}</dd>
        <dt>Failed</dt>
        <dd data-testid="health-failed" className={health.failed > 0 ? "warn" : ""}>
          {health.failed}
        </dd>
        <dt>Discrepancies</dt>
        <dd data-testid="health-discrepancies" className={health.discrepancies > 0 ? "warn" : ""}>
          {health.discrepancies}
        </dd>
        <dt>Indexed block</dt>
        <dd data-testid="health-indexed">{health.indexedBlock?.toString() ?? "–"}</dd>
        <dt>Chain head</dt>
        <dd data-testid="health-head">
          {health.chainHead?.toString() ?? "–"}
          {lag !== undefined && lag > 0n ? <span className="warn"> ({lag.toString()} behind)</span> : null}
        </dd>
        <dt>Last indexed block</dt>
        <dd>{health.indexedBlockTimestamp !== undefined ? ago(now - Number(health.indexedBlockTimestamp) * 1000) : "–"}</dd>
        <dt>Connection</dt>
        <dd data-testid="health-connection">
          chain {state(health.chainOnline)} · indexer {state(health.indexerOnline)}
          {health.live ? " · live" : " · idle (nothing pending)"}
        </dd>
      </dl>
      {health.lastError ? <p className="muted small">Last error: {health.lastError}</p> : null}
    </aside>
  );
}
