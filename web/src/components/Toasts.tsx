/**
 * A toast per action, from the store: what the action is in words, its status, the transaction
 * hash with Copy, and a link to the block explorer when one is configured. Mounted once in the
 * shell; which actions it follows is `followsAction` (toasts.ts). A toast closes by itself a
 * few seconds after its action is indexed, stays while the action is open or failed, and can be
 * closed by hand (remembered for this tab, also across a reload).
 */
import { useEffect, useMemo, useRef, useState } from "react";
import type { Hash } from "viem";
import { useQuery } from "urql";
import { useApp } from "../appContext";
import { short } from "../format";
import { CHAMA_NAMES_QUERY, type ChamaNamesData } from "../queries";
import { useActions } from "../sync/react";
import type { Action } from "../sync/types";
import { AUTO_CLOSE_MS, actionWords, explorerTxUrl, followsAction, statusSentence } from "../toasts";
import { StatusBadge } from "./ActionRows";
import "../toasts.css";

/** At most this many toasts at once, the newest; the rows on the pages list every action. */
const MAX_TOASTS = 4;
const CLOSED_KEY = "jenga.closedToasts";
const COPIED_MS = 2_000;

/** The toasts closed by hand in this tab (sessionStorage: per tab, kept across a reload). */
function readClosed(): Set<string> {
  try {
    const saved: unknown = JSON.parse(sessionStorage.getItem(CLOSED_KEY) ?? "[]");
    return new Set(Array.isArray(saved) ? saved.filter((id): id is string => typeof id === "string") : []);
  } catch {
    // Unreadable: nothing closed.
    return new Set();
  }
}

function saveClosed(closed: ReadonlySet<string>): void {
  sessionStorage.setItem(CLOSED_KEY, JSON.stringify([...closed].slice(-100)));
}

export function Toasts() {
  const actions = useActions();
  const [loadedAt] = useState(() => Date.now());
  // Decided once per action, at first sight (the decision never changes, so recording it
  // while rendering is safe).
  const followed = useRef(new Map<string, boolean>());
  const [closed, setClosed] = useState(readClosed);
  const [expired, setExpired] = useState<ReadonlySet<string>>(() => new Set());

  const shown = useMemo(() => {
    const follows = (action: Action) => {
      let decided = followed.current.get(action.id);
      if (decided === undefined) {
        decided = followsAction({ action, loadedAt });
        followed.current.set(action.id, decided);
      }
      return decided;
    };
    return actions.filter((a) => follows(a) && !closed.has(a.id) && !expired.has(a.id)).slice(-MAX_TOASTS);
  }, [actions, closed, expired, loadedAt]);

  // Indexed: gone a few seconds later, counted from when it was indexed.
  useEffect(() => {
    const timers = shown
      .filter((a) => a.status === "reconciled")
      .map((a) =>
        setTimeout(
          () => setExpired((prev) => new Set(prev).add(a.id)),
          Math.max(0, a.updatedAt + AUTO_CLOSE_MS - Date.now()),
        ),
      );
    return () => timers.forEach(clearTimeout);
  }, [shown]);

  const names = useChamaNames(shown);
  const close = (id: string) =>
    setClosed((prev) => {
      const next = new Set(prev).add(id);
      saveClosed(next);
      return next;
    });

  // The region is there from the first render, so a toast added to it is read out (a live
  // region added together with its text often is not); each toast then reads its own changes.
  return (
    <section className="toasts" aria-label="Your transactions" aria-live="polite" data-testid="toasts">
      {shown.map((action) => (
        <Toast key={action.id} action={action} chamaName={names.get(chamaIdOf(action) ?? "")} onClose={() => close(action.id)} />
      ))}
    </section>
  );
}

function chamaIdOf(action: Action): string | undefined {
  return action.params.kind === "createChama" ? undefined : action.params.chamaId.toString();
}

/** The names of the chamas the toasts are about, from the index (cache first: a name never
 * changes). */
function useChamaNames(actions: Action[]): Map<string, string> {
  const key = [...new Set(actions.map(chamaIdOf).filter((id) => id !== undefined))].sort().join(",");
  const variables = useMemo(() => ({ ids: key === "" ? [] : key.split(",") }), [key]);
  const [result] = useQuery<ChamaNamesData, { ids: string[] }>({ query: CHAMA_NAMES_QUERY, variables, pause: key === "" });
  return useMemo(() => new Map((result.data?.chamas.items ?? []).map((c) => [c.id, c.name])), [result.data]);
}

function Toast({ action, chamaName, onClose }: { action: Action; chamaName: string | undefined; onClose: () => void }) {
  const { unit, config } = useApp();
  const failed = action.status === "failed" || action.status === "dropped" || action.status === "replaced";
  return (
    <div
      className={`toast toast-${failed ? "failed" : action.status}`}
      role="status"
      aria-live="polite"
      data-testid="toast"
      data-status={action.status}
      data-action-id={action.id}
    >
      <div className="toast-head">
        <StatusBadge action={action} />
        <strong className="toast-words" data-testid="toast-words">
          {actionWords({ params: action.params, chamaName: chamaName ?? action.indexed?.name, unit })}
        </strong>
        <button type="button" className="toast-close" aria-label="Close this notice" data-testid="toast-close" onClick={onClose}>
          ×
        </button>
      </div>
      <p className="toast-status" data-testid="toast-status">
        {statusSentence({ action, unit })}
      </p>
      {action.hash ? <HashLine hash={action.hash} explorerUrl={config.explorerUrl} /> : null}
    </div>
  );
}

/** The shortened hash, Copy (with "copied" once the clipboard took it) and the explorer link. */
function HashLine({ hash, explorerUrl }: { hash: Hash; explorerUrl: string | undefined }) {
  const [copy, setCopy] = useState<"copied" | "failed">();
  useEffect(() => {
    if (!copy) return;
    const timer = setTimeout(() => setCopy(undefined), COPIED_MS);
    return () => clearTimeout(timer);
  }, [copy]);
  const onCopy = () => {
    if (!navigator.clipboard) {
      setCopy("failed");
      return;
    }
    navigator.clipboard.writeText(hash).then(
      () => setCopy("copied"),
      () => setCopy("failed"),
    );
  };
  return (
    <p className="toast-hash">
      <code title={hash} data-testid="toast-hash" data-hash={hash}>
        {short(hash)}
      </code>
      <button type="button" className="toast-copy" data-testid="toast-copy" onClick={onCopy} aria-label={`Copy the transaction hash ${hash}`}>
        Copy
      </button>
      {copy === "copied" ? (
        <span className="toast-copied" data-testid="toast-copied">
          copied
        </span>
      ) : copy === "failed" ? (
        <span className="error" data-testid="toast-copy-failed">
          could not copy (the browser refused)
        </span>
      ) : null}
      {explorerUrl ? (
        <a href={explorerTxUrl({ explorerUrl, hash })} target="_blank" rel="noopener noreferrer" data-testid="toast-explorer">
          View on explorer
        </a>
      ) : null}
    </p>
  );
}
