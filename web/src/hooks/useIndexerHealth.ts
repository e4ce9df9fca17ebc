/** The indexer's GET /sync-health, fetched while the component using it is mounted. */
import { useEffect, useRef, useState } from "react";
import type { SyncHealth as IndexerHealth } from "../../../common/ops-api";
import { JengaError, errorMessage } from "../../../common/errors";
import { useHealth, useSync } from "../sync/react";
import { useBrowserOnline } from "./useBrowserOnline";
import { useIndexWatch } from "./useIndexWatch";
import { savedAnswers, syncHealthKey } from "../savedAnswers";
import { useShowsOldAnswer } from "./useOfflineShell";

export type { IndexerHealth };

export type IndexerHealthState =
  | { kind: "loading" }
  /** The last good answer (and when it came) is kept beside the error so the page does not go
   * blank; it is shown as old, never as the current status. */
  | { kind: "error"; error: string; last: IndexerHealth | undefined; lastAt: number | undefined }
  | { kind: "data"; data: IndexerHealth; fetchedAt: number };

export class SyncHealthFetchError extends JengaError {
  override name = "SyncHealthFetchError";
}

/** No answer came at all (the network or the indexer is down), as opposed to a bad answer. */
export class IndexerUnreachableError extends SyncHealthFetchError {
  override name = "IndexerUnreachableError";
}

/** Fetches /sync-health once. 503 (stalled or diverged) carries the same JSON body as 200. */
export async function fetchIndexerHealth(params: { url: string; signal?: AbortSignal }): Promise<IndexerHealth> {
  let response: Response;
  try {
    response = await fetch(`${params.url}/sync-health`, { signal: params.signal });
  } catch (cause) {
    throw new IndexerUnreachableError(`indexer unreachable at ${params.url}: ${errorMessage(cause)}`, { cause });
  }
  if (response.status !== 200 && response.status !== 503) {
    throw new SyncHealthFetchError(`GET /sync-health answered ${response.status} ${response.statusText}`);
  }
  const body: unknown = await response.json().catch((cause: unknown) => {
    throw new SyncHealthFetchError("GET /sync-health did not answer JSON", { cause });
  });
  if (typeof body !== "object" || body === null || !("status" in body) || !("lagHistory" in body) || !Array.isArray(body.lagHistory)) {
    throw new SyncHealthFetchError("GET /sync-health answered JSON without status and lagHistory");
  }
  return body as IndexerHealth;
}

/** Fallback refresh while the page is visible: no indexed block is pushed when the indexer
 * stalls or the chain is quiet, and that is exactly when lag and status change ("stalled" is a
 * matter of time passing). The operator page is the one view that asks on a timer. */
const POLL_MS = 5_000;

/**
 * Keeps /sync-health fresh while mounted: refetched on every indexed block the engine's live
 * stream pushes (the view watches the index, so the tab's one stream is held), at once when
 * the stream breaks or the browser goes offline or online (to learn whether the indexer is
 * still there), and otherwise every 5 s, only while the document is visible (a hidden tab
 * stops; becoming visible refetches at once). Each answer or failure is reported to the engine,
 * the one place that says whether the indexer is reachable. Unmounting stops all of it.
 */
export function useIndexerHealth(params: { url: string }): IndexerHealthState {
  const { url } = params;
  const { engine } = useSync();
  useIndexWatch();
  const health = useHealth();
  const browserOnline = useBrowserOnline();
  const [state, setState] = useState<IndexerHealthState>({ kind: "loading" });
  const refreshRef = useRef<(() => void) | undefined>(undefined);

  useEffect(() => {
    let closed = false;
    let inFlight: AbortController | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last: { data: IndexerHealth; at: number } | undefined;

    const schedule = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (!closed && document.visibilityState === "visible") timer = setTimeout(() => void refresh(), POLL_MS);
    };
    const refresh = async () => {
      inFlight?.abort();
      const controller = new AbortController();
      inFlight = controller;
      try {
        const data = await fetchIndexerHealth({ url, signal: controller.signal });
        if (closed || controller.signal.aborted) return;
        last = { data, at: Date.now() };
        setState({ kind: "data", data, fetchedAt: last.at });
        void savedAnswers.save(syncHealthKey(url), JSON.stringify(data));
        engine?.noteIndexer({ online: true });
      } catch (error) {
        if (closed || controller.signal.aborted) return;
        // No answer at all: the saved copy (savedAnswers.ts; as new as `last` or newer, as every
        // answer is saved) stands in as the last answer, shown as old, never as the status.
        if (error instanceof IndexerUnreachableError) {
          const saved = await savedAnswers.read<IndexerHealth>(syncHealthKey(url));
          if (closed || controller.signal.aborted) return;
          if (saved && (!last || saved.savedAt > last.at)) last = { data: saved.body, at: saved.savedAt };
        }
        setState({ kind: "error", error: errorMessage(error), last: last?.data, lastAt: last?.at });
        if (error instanceof IndexerUnreachableError) engine?.noteIndexer({ online: false, error: errorMessage(error) });
      }
      schedule();
    };
    refreshRef.current = () => void refresh();

    const onVisibility = () => (document.visibilityState === "visible" ? void refresh() : schedule());
    document.addEventListener("visibilitychange", onVisibility);
    void refresh();

    return () => {
      closed = true;
      refreshRef.current = undefined;
      inFlight?.abort();
      if (timer) clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [url, engine]);

  // The cues to ask again: a newly indexed block, the stream breaking, the browser's network.
  const cue = `${health.indexedBlock ?? ""}:${health.indexedBlockTimestamp ?? ""}:${health.connected}:${browserOnline}`;
  const firstCue = useRef(cue);
  useEffect(() => {
    if (cue === firstCue.current) return;
    firstCue.current = "";
    refreshRef.current?.();
  }, [cue]);

  useShowsOldAnswer(state.kind === "error" ? state.lastAt : undefined);
  return state;
}
