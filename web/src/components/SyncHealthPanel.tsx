/** Pending and failed counts, indexed block against chain head, the age of the last indexed
 * block, discrepancies between what was sent and what the chain recorded, and the connection:
 * chain, indexer and live stream, each as old as its last evidence (status.ts). */
import { useEffect, useState } from "react";
import { ago } from "../format";
import { useBrowserOnline } from "../hooks/useBrowserOnline";
import { chainHeadView, chainReachability, indexerReachability, streamState } from "../status";
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

export function SyncHealthPanel() {
  const health = useHealth();
  const now = useNow();
  const browserOnline = useBrowserOnline();
  const head = chainHeadView({ chainHead: health.chainHead, chainSeenAt: health.chainSeenAt, indexedBlock: health.indexedBlock, now });
  const lag = head.block !== undefined && health.indexedBlock !== undefined ? head.block - health.indexedBlock : undefined;
  const chain = chainReachability({ online: health.chainOnline, seenAt: health.chainSeenAt, browserOnline, now });
  const indexer = indexerReachability({
    online: health.indexerOnline,
    seenAt: health.indexerSeenAt,
    connected: health.connected,
    browserOnline,
    now,
  });
  const stream = streamState({ live: health.live, connected: health.connected, indexerOnline: health.indexerOnline, browserOnline });
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
        <dd>
          <span data-testid="health-head">{head.block?.toString() ?? "–"}</span>
          {lag !== undefined && lag > 0n ? <span className="warn"> ({lag.toString()} behind)</span> : null}
          {head.note ? <span className="muted small" data-testid="health-head-note"> ({head.note})</span> : null}
        </dd>
        <dt>Last indexed block</dt>
        <dd>{health.indexedBlockTimestamp !== undefined ? ago(now - Number(health.indexedBlockTimestamp) * 1000) : "–"}</dd>
        <dt>Connection</dt>
        <dd data-testid="health-connection" data-stream={stream.state}>
          <span className={`conn conn-${chain.state}`}>chain {chain.text}</span>
          <span className="sep"> · </span>
          <span className={`conn conn-${indexer.state}`}>indexer {indexer.text}</span>
          <span className="sep"> · </span>
          <span className={`conn stream-${stream.state}`} data-testid="health-stream">
            {stream.text}
          </span>
        </dd>
      </dl>
      {health.lastError ? <p className="muted small">Last error: {health.lastError}</p> : null}
    </aside>
  );
}
