/** React bindings for the API's transaction ledger (web/src/ledger.ts, web/src/ledgerFeed.ts). */
import { useEffect, useState, useSyncExternalStore } from "react";
import { errorMessage } from "../../../common/errors";
import type { LedgerStatus } from "../../../common/ledger-api";
import { useApp } from "../appContext";
import { type LedgerEntry, NoLedgerError } from "../ledger";
import { LedgerFeed, type LedgerFeedState } from "../ledgerFeed";

/** How this browser's sends reach the chain, and the hashes it registered. */
export function useRelayState(): ReturnType<ReturnType<typeof useApp>["ledger"]["state"]> {
  const { ledger } = useApp();
  return useSyncExternalStore(
    (listener) => ledger.subscribe(listener),
    () => ledger.state(),
  );
}

const CONNECTING: LedgerFeedState = { state: "connecting", entries: [] };

/** Every member's actions in flight on chama `chamaId`, pushed by the ledger's change stream
 * while the page is mounted. */
export function useLedgerFeed(chamaId: bigint): LedgerFeedState {
  const { ledger } = useApp();
  const [feed, setFeed] = useState<LedgerFeed>();
  useEffect(() => {
    const next = new LedgerFeed({ client: ledger, chamaId });
    setFeed(next);
    next.start();
    return () => next.stop();
  }, [ledger, chamaId]);
  return useSyncExternalStore(
    (listener) => feed?.subscribe(listener) ?? (() => undefined),
    () => feed?.get() ?? CONNECTING,
  );
}

export type LedgerListsState =
  | { kind: "loading" }
  | { kind: "no-ledger"; error: string }
  | { kind: "error"; error: string; last?: { stuck: LedgerEntry[]; failed: LedgerEntry[]; at: number } }
  | { kind: "data"; stuck: LedgerEntry[]; failed: LedgerEntry[]; at: number };

/** Most rows each operator list shows. */
export const OPERATOR_LIST_ROWS = 10;
/** Pages of open records read to find the oldest (200 each). */
const MAX_OPEN_PAGES = 5;

/** Reads every record of `status` up to MAX_OPEN_PAGES pages. */
async function readAll(ledger: ReturnType<typeof useApp>["ledger"], status: LedgerStatus, signal: AbortSignal): Promise<LedgerEntry[]> {
  const all: LedgerEntry[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_OPEN_PAGES; page++) {
    const answer = await ledger.list({ status, limit: 200, signal, ...(after ? { after } : {}) });
    all.push(...answer.items);
    if (!answer.next) break;
    after = answer.next;
  }
  return all;
}

/**
 * The operator's lists, system-wide: the oldest actions still open (drafts and pending, the
 * stuck ones first) and the newest failures, read again whenever `cue` changes (each answer of
 * /sync-health, so the lists and the cards are as old as each other).
 */
export function useLedgerLists(cue: string): LedgerListsState {
  const { ledger } = useApp();
  const [state, setState] = useState<LedgerListsState>({ kind: "loading" });
  useEffect(() => {
    const controller = new AbortController();
    void (async () => {
      try {
        const [drafts, pending, failed] = await Promise.all([
          readAll(ledger, "draft", controller.signal),
          readAll(ledger, "pending", controller.signal),
          ledger.list({ status: "failed", limit: OPERATOR_LIST_ROWS, signal: controller.signal }),
        ]);
        if (controller.signal.aborted) return;
        const stuck = [...drafts, ...pending].sort((a, b) => (a.sentAt ?? a.createdAt) - (b.sentAt ?? b.createdAt)).slice(0, OPERATOR_LIST_ROWS);
        setState({ kind: "data", stuck, failed: failed.items, at: Date.now() });
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof NoLedgerError) setState({ kind: "no-ledger", error: error.message });
        else setState((prev) => ({ kind: "error", error: errorMessage(error), last: prev.kind === "data" ? prev : prev.kind === "error" ? prev.last : undefined }));
      }
    })();
    return () => controller.abort();
  }, [ledger, cue]);
  return state;
}
