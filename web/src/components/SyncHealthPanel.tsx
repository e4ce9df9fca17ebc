/** Pending and failed counts, indexed block against chain head, the age of the last indexed
 * block, discrepancies between what was sent and what the chain recorded, and the connection:
 * chain, indexer and live stream, each as old as its last evidence (status.ts). */
import { useEffect, useState } from "react";
import { useApp } from "../appContext";
import { ago } from "../format";
import { useBrowserOnline } from "../hooks/useBrowserOnline";
import { chainHeadView, chainReachability, indexerReachability, streamState } from "../status";
import { useHealth } from "../sync/react";
import { short } from "../format";
import { useRelayState } from "../hooks/useLedger";
import type { RelayState, Registration } from "../ledger";

/** How this browser's actions reach the chain, in a line: through the ledger, or not (and why). */
function relayText(relay: RelayState, registrations: Registration[], walletKind: "dev" | "injected" | undefined): { text: string; warn: boolean } {
  const problem = registrations.find((r) => r.state === "refused" || r.state === "no-ledger");
  if (walletKind === "injected") {
    if (problem) return { text: `wallet; the ledger did not register ${short(problem.hash)}: ${problem.message ?? problem.state}`, warn: true };
    const last = registrations[0];
    if (last?.state === "retrying") return { text: `wallet; registering ${short(last.hash)} with the ledger (retrying)`, warn: true };
    return { text: last ? "wallet; registered with the ledger" : "wallet; registered with the ledger once sent", warn: false };
  }
  if (relay.mode === "direct") return { text: `straight to the node, not through the ledger: ${relay.reason}`, warn: true };
  if (relay.mode === "relay") return { text: "through the API's ledger", warn: false };
  return { text: "through the API's ledger (nothing sent yet)", warn: false };
}

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
  const { wallet } = useApp();
  const ledger = useRelayState();
  const relay = relayText(ledger.relay, ledger.registrations, wallet?.kind);
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
        <dt>Sends</dt>
        <dd data-testid="health-relay" data-mode={ledger.relay.mode} className={relay.warn ? "warn" : ""}>
          {relay.text}
        </dd>
      </dl>
      {health.lastError ? <p className="muted small">Last error: {health.lastError}</p> : null}
    </aside>
  );
}
