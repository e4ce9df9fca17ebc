/** The indexer's GET /sync-health, fetched while the component using it is mounted. */
import { useEffect, useState } from "react";
import type { SyncHealth as IndexerHealth } from "../../../common/ops-api";
import { ponderIndexer } from "../sync/ponderIndexer";
import { JengaError, errorMessage } from "../../../common/errors";

export type { IndexerHealth };

export type IndexerHealthState =
  | { kind: "loading" }
  /** The last good answer is kept beside the error so the page does not go blank. */
  | { kind: "error"; error: string; last: IndexerHealth | undefined }
  | { kind: "data"; data: IndexerHealth; fetchedAt: number };

export class SyncHealthFetchError extends JengaError {
  override name = "SyncHealthFetchError";
}

/** Fetches /sync-health once. 503 (stalled or diverged) carries the same JSON body as 200. */
export async function fetchIndexerHealth(params: { url: string; signal?: AbortSignal }): Promise<IndexerHealth> {
  let response: Response;
  try {
    response = await fetch(`${params.url}/sync-health`, { signal: params.signal });
  } catch (cause) {
    throw new SyncHealthFetchError(`indexer unreachable at ${params.url}: ${errorMessage(cause)}`, { cause });
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
 * stalls or the chain is quiet, and that is exactly when lag and status change. */
const POLL_MS = 5_000;

/**
 * Keeps /sync-health fresh while mounted: refetched on every indexed block the indexer pushes
 * (its live stream), and otherwise polled every 5 s, only while the document is visible (a hidden
 * tab stops; becoming visible refetches at once). Unmounting stops both.
 */
export function useIndexerHealth(params: { url: string; chainId: number }): IndexerHealthState {
  const { url, chainId } = params;
  const [state, setState] = useState<IndexerHealthState>({ kind: "loading" });

  useEffect(() => {
    let closed = false;
    let inFlight: AbortController | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last: IndexerHealth | undefined;

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
        last = data;
        setState({ kind: "data", data, fetchedAt: Date.now() });
      } catch (error) {
        if (closed || controller.signal.aborted) return;
        setState({ kind: "error", error: errorMessage(error), last });
      }
      schedule();
    };

    const unsubscribe = ponderIndexer({ url, chainId }).subscribe({
      onBlock: () => void refresh(),
      // The fetch reports an unreachable indexer itself; the stream reconnects on its own.
      onError: () => undefined,
    });
    const onVisibility = () => (document.visibilityState === "visible" ? void refresh() : schedule());
    document.addEventListener("visibilitychange", onVisibility);
    void refresh();

    return () => {
      closed = true;
      unsubscribe();
      inFlight?.abort();
      if (timer) clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [url, chainId]);

  return state;
}
