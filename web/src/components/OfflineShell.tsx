/** Under the header: how old the data on screen is whenever a view shows an answer that is not
 * current (a saved copy opened offline, or the last answer kept after a failed read), and a new
 * version of the app to load when one is ready (swRegister.ts). */
import { duration } from "../format";
import { useBrowserOnline } from "../hooks/useBrowserOnline";
import { useOldestShownAnswer, useShellState } from "../hooks/useOfflineShell";
import { applyShellUpdate } from "../swRegister";
import { useNow } from "./SyncHealthPanel";
import "../offline.css";

export function OfflineShellNotices() {
  const shell = useShellState();
  const readAt = useOldestShownAnswer();
  const browserOnline = useBrowserOnline();
  const now = useNow();
  return (
    <>
      {readAt !== undefined ? (
        <div className="old-data-notice" role="status" data-testid="old-data-notice" data-read-at={readAt}>
          <p>
            <strong>{browserOnline ? "Indexer unreachable" : "Offline"}: data from {duration(now - readAt)} ago</strong> (read at{" "}
            {new Date(readAt).toLocaleTimeString()}), not current. It updates by itself once the indexer answers.
          </p>
        </div>
      ) : null}
      {shell.kind === "registered" && shell.updateReady ? (
        <div className="shell-update" role="status" data-testid="shell-update">
          <p>A new version of Jenga Index is ready. Reloading opens it in every tab; drafts and pending actions are kept.</p>
          <button type="button" className="primary" onClick={applyShellUpdate} data-testid="shell-update-button">
            Reload to update
          </button>
        </div>
      ) : null}
      {shell.kind === "failed" ? (
        <p className="muted small shell-failed" data-testid="shell-failed">
          This page will not open offline: its service worker could not be registered ({shell.error}).
        </p>
      ) : null}
    </>
  );
}
