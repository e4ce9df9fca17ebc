/**
 * Every member's actions in flight on one chama, from the API's ledger, kept current by push:
 * the change stream `GET /transactions/stream?chamaId=` (server-sent events, `event:
 * transaction` with the LedgerChange as `data`, `event: ready` after the replay), and on each
 * (re)connect a fresh read of the open records (`GET /transactions?status=`), merged by
 * `updatedAt` so an older answer never undoes a newer change. Framework-free: the page
 * subscribes to it.
 *
 * What it keeps: open records (draft, pending, confirmed), and failures (failed, dropped,
 * replaced) for an hour after they happened, with their reason. A reconciled record leaves.
 */
import type { LedgerStatus } from "../../common/ledger-api";
import { errorMessage } from "../../common/errors";
import { type LedgerClient, type LedgerEntry, NoLedgerError, isFailure, isOpen, parseLedgerChange } from "./ledger";

export type LedgerFeedState = {
  /** `live`: the stream is connected and the read after it answered; `connecting`: not yet
   * (or again, after a break); `unreachable`: the API could not be reached (what is shown is as
   * old as `since`); `no-ledger`: the API keeps no ledger, so nothing can be known. */
  state: "connecting" | "live" | "unreachable" | "no-ledger";
  entries: LedgerEntry[];
  error?: string;
  /** When the entries were last known to be current (ms), if ever. */
  since?: number;
};

/** How long a failure stays listed. */
export const FAILURE_SHOWN_MS = 60 * 60 * 1000;
/** Most records kept (the newest). */
export const MAX_FEED_ENTRIES = 500;
/** Stream reconnect back-off. */
const BACKOFF = { firstMs: 250, maxMs: 8_000 } as const;
/** While the API has no ledger, ask again this rarely. */
const NO_LEDGER_RETRY_MS = 30_000;

type EventSourceLike = {
  addEventListener: (type: string, listener: (event: MessageEvent<string>) => void) => void;
  close: () => void;
  onerror: ((event: Event) => void) | null;
};

export type LedgerFeedParameters = {
  client: LedgerClient;
  chamaId: bigint;
  now?: () => number;
  /** The EventSource constructor (the browser's by default). */
  eventSource?: (url: string) => EventSourceLike;
};

/** Whether a record belongs on the page now. */
export function shownInFeed(entry: LedgerEntry, now: number): boolean {
  if (isOpen(entry.status)) return true;
  return isFailure(entry.status) && now - entry.updatedAt < FAILURE_SHOWN_MS;
}

export class LedgerFeed {
  private readonly entries = new Map<string, LedgerEntry>();
  private snapshot: LedgerFeedState = { state: "connecting", entries: [] };
  private readonly listeners = new Set<() => void>();
  private source: EventSourceLike | undefined;
  private lastId: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private reading: AbortController | undefined;
  private stopped = true;
  private state: LedgerFeedState["state"] = "connecting";
  private error: string | undefined;
  private since: number | undefined;
  /** Hashes a change arrived for while a read was out: the read's answer may predate them. */
  private readonly touched = new Set<string>();

  constructor(private readonly params: LedgerFeedParameters) {}

  private now(): number {
    return (this.params.now ?? Date.now)();
  }

  get(): LedgerFeedState {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.source?.close();
    this.source = undefined;
    this.reading?.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private publish(): void {
    const now = this.now();
    for (const [hash, entry] of this.entries) if (!shownInFeed(entry, now)) this.entries.delete(hash);
    const entries = [...this.entries.values()].sort((a, b) => (a.sentAt ?? a.createdAt) - (b.sentAt ?? b.createdAt));
    this.snapshot = { state: this.state, entries, ...(this.error ? { error: this.error } : {}), ...(this.since ? { since: this.since } : {}) };
    for (const listener of this.listeners) listener();
  }

  /** Keeps the newer of what is held and `entry` (a stream change and a read can cross). */
  private merge(entry: LedgerEntry): void {
    if (entry.chamaId !== this.params.chamaId) return;
    const held = this.entries.get(entry.hash);
    if (held && held.updatedAt > entry.updatedAt) return;
    if (!shownInFeed(entry, this.now())) {
      this.entries.delete(entry.hash);
      return;
    }
    this.entries.set(entry.hash, entry);
    if (this.entries.size > MAX_FEED_ENTRIES) {
      const oldest = [...this.entries.values()].sort((a, b) => a.updatedAt - b.updatedAt)[0];
      if (oldest) this.entries.delete(oldest.hash);
    }
  }

  private streamUrl(): string {
    const query = new URLSearchParams({ chamaId: this.params.chamaId.toString() });
    if (this.lastId) query.set("after", this.lastId);
    return `${this.params.client.url}/transactions/stream?${query.toString()}`;
  }

  private connect(): void {
    if (this.stopped) return;
    const open = this.params.eventSource ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);
    const source = open(this.streamUrl());
    this.source = source;
    source.addEventListener("transaction", (event) => {
      if (this.source !== source) return;
      try {
        const { id, entry } = parseLedgerChange(event.data);
        this.lastId = id;
        this.touched.add(entry.hash);
        this.merge(entry);
        this.publish();
      } catch (error) {
        // A change the app cannot read: say so, and read the whole state again.
        this.error = errorMessage(error);
        this.reconnect();
      }
    });
    source.addEventListener("ready", () => {
      if (this.source !== source) return;
      this.attempt = 0;
      void this.read();
    });
    source.onerror = () => {
      if (this.source !== source) return;
      // Closed here and opened again with `after=`, so no change is lost and the back-off is ours.
      this.reconnect();
    };
  }

  private reconnect(): void {
    this.source?.close();
    this.source = undefined;
    if (this.stopped) return;
    if (this.state === "live") {
      this.state = "connecting";
      this.publish();
    }
    // Why did it break? A read tells an API without a ledger from one that cannot be reached.
    void this.read().then(() => {
      if (this.stopped) return;
      // Backing off while the stream keeps breaking, even when the read answers.
      const delay = this.state === "no-ledger" ? NO_LEDGER_RETRY_MS : Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** this.attempt++);
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.connect();
      }, delay);
    });
  }

  /** Reads the open records and recent failures; true when it answered. */
  private async read(): Promise<boolean> {
    this.reading?.abort();
    const controller = new AbortController();
    this.reading = controller;
    this.touched.clear();
    const { client, chamaId } = this.params;
    try {
      const [open, failed] = await Promise.all([
        client.listOpen({ chamaId, limit: 200, signal: controller.signal }),
        client.list({ chamaId, status: "failed" satisfies LedgerStatus, limit: 20, signal: controller.signal }),
      ]);
      if (controller.signal.aborted || this.stopped) return false;
      const fresh = new Set<string>([...open, ...failed.items].map((e) => e.hash));
      // Open records the read no longer lists were settled while no change reached us.
      for (const [hash, held] of this.entries) if (isOpen(held.status) && !fresh.has(hash) && !this.touched.has(hash)) this.entries.delete(hash);
      for (const entry of [...open, ...failed.items]) this.merge(entry);
      this.since = this.now();
      this.error = undefined;
      this.state = this.source ? "live" : "connecting";
      this.publish();
      return true;
    } catch (error) {
      if (controller.signal.aborted || this.stopped) return false;
      this.state = error instanceof NoLedgerError ? "no-ledger" : "unreachable";
      this.error = errorMessage(error);
      this.publish();
      return false;
    }
  }
}
