/**
 * The last answers the app's own views read (GraphQL pages, /sync-health), kept in the browser's
 * Cache Storage so that a page opened with no network (the offline shell, sw.ts) still shows
 * something: marked as saved, with the time it was read, never as a current answer.
 *
 * Only the views' reads come here: the sync engine's reads of the index (which decide when a draft
 * is sent and whether a row left the index) go to the network alone and fail as they always did.
 * A saved copy is used only when the request could not reach the indexer at all (fetch threw);
 * an HTTP error is the indexer's answer and is passed on. Nothing but reads is ever kept: the
 * relay's POST /transactions never passes through here.
 *
 * Off in `vite` dev (import.meta.env.DEV) and where the browser has no Cache Storage (an origin
 * that is not a secure context): then every read goes to the network as before.
 */
/** The cache of saved answers. The number is the format: a new format takes a new name, and
 * the older caches are deleted when this module first opens its own. */
export const SAVED_CACHE = "jenga-saved-v1";
const SAVED_PREFIX = "jenga-saved-";
/** Each saved copy carries the time it was read (ms since the epoch). */
export const SAVED_AT_HEADER = "x-jenga-saved-at";
/** At most this many answers are kept; the oldest saved go first. */
export const SAVED_MAX_ENTRIES = 64;
/** Where a GraphQL answer served from the saved copy says so, in its `extensions`. */
export const SAVED_EXTENSION = "savedAnswer";

/** The part of CacheStorage this module uses (a fake one in the unit tests). */
export type CacheLike = {
  match: (key: string) => Promise<Response | undefined>;
  put: (key: string, response: Response) => Promise<void>;
  delete: (key: string) => Promise<boolean>;
  keys: () => Promise<readonly { url: string }[]>;
};
export type CacheStorageLike = {
  open: (name: string) => Promise<CacheLike>;
  keys: () => Promise<string[]>;
  delete: (name: string) => Promise<boolean>;
};

export type SavedAnswer<T> = { body: T; savedAt: number };

/** Saves answers and reads them back. One per page (`savedAnswers`), or built over a fake
 * cache in the tests. */
export class SavedAnswers {
  private readonly storage: CacheStorageLike | undefined;
  private readonly now: () => number;
  private cache: Promise<CacheLike | undefined> | undefined;

  constructor(params: { storage: CacheStorageLike | undefined; now?: () => number }) {
    this.storage = params.storage;
    this.now = params.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.storage !== undefined;
  }

  /** Opens the cache once, deleting the caches of older formats. A browser that refuses
   * (private mode, quota) leaves the feature off for this page. */
  private open(): Promise<CacheLike | undefined> {
    const storage = this.storage;
    if (!storage) return Promise.resolve(undefined);
    this.cache ??= (async () => {
      try {
        for (const name of await storage.keys()) {
          if (name.startsWith(SAVED_PREFIX) && name !== SAVED_CACHE) await storage.delete(name);
        }
        return await storage.open(SAVED_CACHE);
      } catch {
        return undefined;
      }
    })();
    return this.cache;
  }

  /** Keeps `text` (a JSON answer) as the saved copy of `key`, read now. A failure to save loses
   * only the copy, never the answer itself. */
  async save(key: string, text: string): Promise<void> {
    const cache = await this.open();
    if (!cache) return;
    try {
      const headers = { "content-type": "application/json", [SAVED_AT_HEADER]: String(this.now()) };
      await cache.put(key, new Response(text, { headers }));
      const keys = await cache.keys();
      // Cache Storage lists entries in the order they were written: the first are the oldest.
      for (const old of keys.slice(0, Math.max(0, keys.length - SAVED_MAX_ENTRIES))) await cache.delete(old.url);
    } catch {
      // Quota or a closed cache: the page goes on without this copy.
    }
  }

  /** The saved copy of `key`, or undefined when there is none. */
  async read<T>(key: string): Promise<SavedAnswer<T> | undefined> {
    const cache = await this.open();
    if (!cache) return undefined;
    let response: Response | undefined;
    try {
      response = await cache.match(key);
    } catch {
      return undefined;
    }
    const savedAt = Number(response?.headers.get(SAVED_AT_HEADER));
    if (!response || !Number.isSafeInteger(savedAt) || savedAt <= 0) return undefined;
    let body: T;
    try {
      body = (await response.json()) as T;
    } catch {
      return undefined;
    }
    return { body, savedAt };
  }
}

/** The cache key of a GraphQL read: its URL and its exact body, so no two reads can share one. */
export function graphqlKey(url: string, body: string): string {
  return `${url}?saved-body=${encodeURIComponent(body)}`;
}

/** The cache key of /sync-health at `url` (the indexer's origin). */
export function syncHealthKey(url: string): string {
  return `${url}/sync-health`;
}

/** The read time a GraphQL answer carries when it is a saved copy (see `savedFetch`). */
export function savedAtOf(extensions: Record<string, unknown> | undefined): number | undefined {
  const marker = extensions?.[SAVED_EXTENSION];
  if (typeof marker !== "object" || marker === null || !("savedAt" in marker)) return undefined;
  return typeof marker.savedAt === "number" ? marker.savedAt : undefined;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

/** A good GraphQL answer: data and no errors (an answer with errors is not kept). */
function isGoodGraphql(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && "data" in parsed && parsed.data !== null && !("errors" in parsed && parsed.errors);
  } catch {
    return false;
  }
}

/**
 * The `fetch` of the app's urql client. A good answer is saved under its request's body; when the
 * request cannot reach the indexer at all, the saved copy is answered instead, with
 * `extensions.savedAnswer = { savedAt }` so the view (useIndexedQuery) shows it as saved and
 * never as the indexer being online. Anything but a POST with a string body passes straight on.
 */
export function savedFetch(saved: SavedAnswers, fetcher: typeof fetch = (input, init) => fetch(input, init)): typeof fetch {
  return async (input, init) => {
    const body = init?.body;
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!saved.enabled || (init?.method ?? "GET").toUpperCase() !== "POST" || typeof body !== "string") return fetcher(input, init);
    const key = graphqlKey(url, body);
    let response: Response;
    try {
      response = await fetcher(input, init);
    } catch (error) {
      if (isAbort(error) || init?.signal?.aborted) throw error;
      const copy = await saved.read<Record<string, unknown>>(key);
      if (!copy) throw error;
      const extensions = { ...(copy.body.extensions as Record<string, unknown> | undefined), [SAVED_EXTENSION]: { savedAt: copy.savedAt } };
      return new Response(JSON.stringify({ ...copy.body, extensions }), { status: 200, headers: { "content-type": "application/json" } });
    }
    if (response.status !== 200 || !/json/i.test(response.headers.get("content-type") ?? "")) return response;
    const text = await response.clone().text();
    if (isGoodGraphql(text)) void saved.save(key, text);
    return response;
  };
}

function browserCaches(): CacheStorageLike | undefined {
  if (import.meta.env.DEV) return undefined;
  try {
    return typeof caches === "undefined" ? undefined : caches;
  } catch {
    return undefined;
  }
}

/** The page's saved answers (off in dev and without Cache Storage). */
export const savedAnswers = new SavedAnswers({ storage: browserCaches() });
