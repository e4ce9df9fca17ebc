/**
 * A response cache in front of GraphQL, keyed by the database's snapshot.
 *
 * Each request first reads a version token: PostgreSQL's `pg_current_snapshot()` (the same on
 * PGlite), read by a query that starts after the request arrived. Two equal snapshots mean no
 * transaction committed between them, so an answer computed after a read of token T is still
 * exactly what a fresh execution would return for as long as the database reports T. Any
 * commit changes the token: an indexed block, a reorg rollback (which Ponder runs with its own
 * change notifications switched off), backfill batches, crash recovery, a second indexer
 * writing the schema from another process. Nothing is pushed to this process, so there is no
 * listen connection to lose and no window between a commit and its notification.
 *
 * The price is one small query per request (shared by requests that arrive while it is
 * queued) and a coarse key: any commit in the cluster, Ponder's heartbeat every 10 s
 * included, empties the cache. See BENCHMARKS.md for what it buys.
 */
import { createMiddleware } from "hono/factory";
import { LRUCache } from "lru-cache";
import { type RequestTextEnv, requestText } from "./limits";

export type ResponseCacheParameters = {
  /** Reads the current version token (the snapshot). */
  readVersion: () => Promise<string>;
  /** Most entries kept. */
  maxEntries: number;
  /** Most bytes kept, keys and bodies counted as UTF-16 (2 bytes a character). */
  maxBytes: number;
  /** Largest request body read (413 past it): the cache checks it itself (./limits.ts,
   * `requestText`), so it does not rely on a limit in front of it. */
  maxBodyBytes: number;
};

export type ResponseCacheStats = { hits: number; misses: number; bypasses: number; stored: number; entries: number; bytes: number };

/** Header telling the client (and the tests and benchmarks) what the cache did. */
export const CACHE_HEADER = "x-graphql-cache";

/** Largest request body considered; larger ones go straight to GraphQL. */
const MAX_REQUEST_BYTES = 64 * 1024;

type Entry = { version: string; body: string; contentType: string };

/** Wraps `read` so that concurrent callers share one read, and each caller gets the result of
 * a read that started after it called: a read already in flight may predate a commit the
 * caller must see, so later callers queue for the next one. */
export function coalesceAfterArrival<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  const start = () => {
    const current = read().finally(() => {
      if (running === current) running = undefined;
    });
    running = current;
    return current;
  };
  return () => {
    if (!running) return start();
    queued ??= running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        queued = undefined;
        return start();
      });
    return queued;
  };
}

/** Hono middleware that caches successful GraphQL POST responses per (Accept, body) for as long
 * as the database's version token is unchanged. Requests with `Cache-Control: no-cache` or
 * `no-store` skip it (they can already do so by varying a variable, so this grants nothing). */
export function responseCache(params: ResponseCacheParameters) {
  const cache = new LRUCache<string, Entry>({
    max: params.maxEntries,
    maxSize: params.maxBytes,
    sizeCalculation: (entry, key) => 2 * (key.length + entry.body.length + entry.version.length + entry.contentType.length) + 64,
  });
  const version = coalesceAfterArrival(params.readVersion);
  /** The newest token seen; entries under any other token can never be served again. */
  let latest: string | undefined;
  const stats = { hits: 0, misses: 0, bypasses: 0, stored: 0 };

  const observe = (token: string) => {
    if (token !== latest) {
      latest = token;
      cache.clear();
    }
  };

  const middleware = createMiddleware<RequestTextEnv>(async (c, next) => {
    const requestCacheControl = c.req.header("cache-control") ?? "";
    // No Content-Length (a chunked body) is not "0 bytes": it is read below, up to the cap.
    const lengthHeader = c.req.header("content-length");
    const length = lengthHeader === undefined ? 0 : Number(lengthHeader);
    if (
      c.req.method !== "POST" ||
      !(c.req.header("content-type") ?? "").includes("application/json") ||
      /no-cache|no-store/i.test(requestCacheControl) ||
      !(length <= MAX_REQUEST_BYTES)
    ) {
      stats.bypasses++;
      await next();
      c.header(CACHE_HEADER, "bypass");
      return;
    }

    // Read once per request (the guard may have read it already); GraphQL gets an equal request.
    const body = await requestText(c, { maxBytes: params.maxBodyBytes });
    if (typeof body !== "string") return body;
    if (body.length > MAX_REQUEST_BYTES) {
      stats.bypasses++;
      await next();
      c.header(CACHE_HEADER, "bypass");
      return;
    }

    let token: string;
    try {
      token = await version();
    } catch {
      // Without a version nothing can be vouched for: answer uncached (GraphQL reports the
      // database error itself, if there is one).
      stats.bypasses++;
      cache.clear();
      latest = undefined;
      await next();
      c.header(CACHE_HEADER, "bypass");
      return;
    }
    observe(token);

    const key = `${c.req.header("accept") ?? ""}\n${body}`;
    const hit = cache.get(key);
    if (hit && hit.version === token) {
      stats.hits++;
      return c.body(hit.body, 200, { "content-type": hit.contentType, [CACHE_HEADER]: "hit" });
    }

    stats.misses++;
    await next();
    const response = c.res;
    const contentType = response.headers.get("content-type") ?? "";
    if (response.status === 200 && contentType.startsWith("application/") && contentType.includes("json")) {
      const text = await response.text();
      c.res = new Response(text, { status: response.status, headers: response.headers });
      // Only an error-free answer computed under the newest token is kept; errors may be
      // transient (a dropped connection) and an answer from an older token is already stale.
      if (token === latest && !hasErrors(text)) {
        cache.set(key, { version: token, body: text, contentType });
        if (cache.has(key)) stats.stored++;
      }
    }
    c.header(CACHE_HEADER, "miss");
  });

  return Object.assign(middleware, {
    stats: (): ResponseCacheStats => ({ ...stats, entries: cache.size, bytes: cache.calculatedSize }),
  });
}

function hasErrors(text: string): boolean {
  // graphql-js puts `errors` before `data` when there are any: an answer that starts with
  // `data` has none, and skipping the parse keeps a large answer cheap to store.
  if (text.startsWith('{"data":')) return false;
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    return parsed.errors !== undefined;
  } catch {
    return true;
  }
}
