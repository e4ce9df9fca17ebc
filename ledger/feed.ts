/**
 * The ledger's change feed behind `GET /transactions/stream`: one poller per process reads new
 * transitions rows from the database (so a change written by any replica reaches every
 * replica's streams) and hands each to the subscribers whose filter it matches. It polls only
 * while someone listens.
 *
 * Ids of a bigserial are taken before commit, so on PostgreSQL id 11 can commit after id 12 has
 * been read. The feed remembers such gaps and reads them again until `gapWindowMs` has passed
 * (a rolled-back insert leaves a gap that never fills).
 */
import { errorMessage } from "../common/errors";
import type { LedgerChangeRow, LedgerStore, RecordFilter } from "./store";

export type Subscriber = {
  filter: RecordFilter;
  send: (change: LedgerChangeRow) => void;
  /** The feed closed (the ledger is shutting down): end the stream. */
  end: () => void;
};

/** True when the change passes the stream's filters. */
export function matchesFilter(change: LedgerChangeRow, filter: RecordFilter): boolean {
  if (filter.chamaId !== undefined && change.record.chamaId !== filter.chamaId) return false;
  if (filter.from && change.record.from.toLowerCase() !== filter.from.toLowerCase()) return false;
  return true;
}

export type FeedParameters = {
  store: LedgerStore;
  intervalMs: number;
  /** How long a gap in the ids is read again. */
  gapWindowMs?: number;
  /** Most changes read in one poll. */
  batch?: number;
  now?: () => number;
  log?: (line: string) => void;
};

const MAX_GAPS = 10_000;

export class ChangeFeed {
  private readonly subscribers = new Set<Subscriber>();
  private readonly gaps = new Map<bigint, number>();
  private lastId: bigint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastError: string | undefined;
  /** Bumped when the feed goes idle: a poll that started before drops what it read. */
  private generation = 0;

  constructor(private readonly p: FeedParameters) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber and returns its unsubscribe. The first subscriber starts the poller at
   * the newest change: earlier ones are the stream's own replay. */
  async subscribe(subscriber: Subscriber): Promise<() => void> {
    this.subscribers.add(subscriber);
    if (this.lastId === undefined) {
      this.lastId = await this.p.store.lastChangeId();
      this.schedule();
    }
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.idle();
    };
  }

  /** Reads and hands out what is new. Exposed for tests; the poller calls it. */
  async poll(): Promise<void> {
    if (this.lastId === undefined) return;
    const { store } = this.p;
    const generation = this.generation;
    const now = (this.p.now ?? Date.now)();
    for (const [id, until] of this.gaps) if (until < now) this.gaps.delete(id);
    const late = this.gaps.size > 0 ? await store.changes({ ids: [...this.gaps.keys()], limit: MAX_GAPS }) : [];
    const fresh = await store.changes({ afterId: this.lastId, limit: this.p.batch ?? 500 });
    if (generation !== this.generation) return;
    for (const change of late) this.gaps.delete(change.id);
    let expected = this.lastId + 1n;
    for (const change of fresh) {
      for (let id = expected; id < change.id && this.gaps.size < MAX_GAPS; id++) this.gaps.set(id, now + (this.p.gapWindowMs ?? 30_000));
      expected = change.id + 1n;
    }
    if (fresh.length > 0) this.lastId = fresh[fresh.length - 1]!.id;
    for (const change of [...late, ...fresh]) {
      for (const subscriber of this.subscribers) if (matchesFilter(change, subscriber.filter)) subscriber.send(change);
    }
  }

  private schedule() {
    if (this.subscribers.size === 0 || this.timer !== undefined || this.polling !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll()
        .then(
          () => {
            this.lastError = undefined;
          },
          (error: unknown) => {
            const message = errorMessage(error);
            if (message !== this.lastError) (this.p.log ?? console.warn)(`Transaction ledger: the change feed could not read, retrying: ${message}`);
            this.lastError = message;
          },
        )
        .finally(() => {
          this.polling = undefined;
          this.schedule();
        });
    }, this.p.intervalMs);
  }

  /** Nobody listens: stop polling and forget the position (the next subscriber starts fresh). */
  private idle() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastId = undefined;
    this.gaps.clear();
    this.generation++;
  }

  async close(): Promise<void> {
    for (const subscriber of this.subscribers) subscriber.end();
    this.subscribers.clear();
    this.idle();
    await this.polling;
  }
}
