/**
 * The GraphQL response cache's rules, in front of a stand-in GraphQL handler whose answers and
 * database version the tests control. test/graphql-cache.test.ts runs it against the real
 * indexer, blocks and reorgs.
 */
import { Hono } from "hono";
import { describe, expect, test } from "vitest";
import { CACHE_HEADER, coalesceAfterArrival, responseCache } from "../src/api/response-cache";
import { ConfigError, loadApiEnv } from "../config/env";

/** A deferred promise the test resolves by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** An app with the cache in front of a handler that answers `answer()` and counts its calls. */
function createApp(params: { maxEntries?: number; maxBytes?: number; answer?: (body: string) => Promise<unknown> | unknown } = {}) {
  const state = { version: "v1", executions: 0, versionReads: 0 };
  const cache = responseCache({
    readVersion: async () => {
      state.versionReads++;
      return state.version;
    },
    maxEntries: params.maxEntries ?? 100,
    maxBytes: params.maxBytes ?? 1024 * 1024,
    maxBodyBytes: 128 * 1024,
  });
  const app = new Hono();
  app.use("/graphql", cache);
  app.post("/graphql", async (c) => {
    state.executions++;
    const body = await c.req.text();
    return c.json((await params.answer?.(body)) ?? { data: { echo: body, version: state.version } });
  });
  const post = async (query: string, headers: Record<string, string> = {}) => {
    const response = await app.request("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query }),
    });
    return { cache: response.headers.get(CACHE_HEADER), body: (await response.json()) as { data?: { version: string } } };
  };
  return { app, cache, state, post };
}

describe("GraphQL response cache", () => {
  test("answers a repeated request from the cache while the version holds", async () => {
    const { state, post } = createApp();
    expect((await post("{ a }")).cache).toBe("miss");
    const again = await post("{ a }");
    expect(again.cache).toBe("hit");
    expect(again.body.data?.version).toBe("v1");
    expect(state.executions).toBe(1);
    expect((await post("{ b }")).cache).toBe("miss");
  });

  test("a new version empties it: the next answer is computed afresh", async () => {
    const { cache, state, post } = createApp();
    await post("{ a }");
    state.version = "v2";
    const after = await post("{ a }");
    expect(after.cache).toBe("miss");
    expect(after.body.data?.version).toBe("v2");
    expect(state.executions).toBe(2);
    expect(cache.stats().entries).toBe(1);
  });

  test("an answer computed while the version changed is not stored", async () => {
    const gate = deferred<void>();
    const { state, post } = createApp({
      answer: async () => {
        await gate.promise;
        return { data: { version: "computed-under-v1" } };
      },
    });
    const slow = post("{ a }");
    // A request that arrives while the first one computes sees v2: the slow answer is older.
    await expect.poll(() => state.executions).toBe(1);
    state.version = "v2";
    const fast = post("{ b }");
    gate.resolve();
    expect((await slow).cache).toBe("miss");
    await fast;
    const again = await post("{ a }");
    expect(again.cache).toBe("miss");
    expect(state.executions).toBe(3);
  });

  test("errors are not stored; no-cache requests skip the cache both ways", async () => {
    const { state, post } = createApp({ answer: (body) => (body.includes("bad") ? { errors: [{ message: "boom" }] } : undefined) });
    await post("{ bad }");
    expect((await post("{ bad }")).cache).toBe("miss");
    expect((await post("{ a }", { "cache-control": "no-cache" })).cache).toBe("bypass");
    expect((await post("{ a }")).cache).toBe("miss");
    expect((await post("{ a }", { "cache-control": "no-cache" })).cache).toBe("bypass");
    expect(state.executions).toBe(5);
  });

  test("memory is bounded by entries and by bytes", async () => {
    const byEntries = createApp({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) await byEntries.post(`{ q${i} }`);
    expect(byEntries.cache.stats().entries).toBe(3);

    const byBytes = createApp({ maxBytes: 4_000, answer: (body) => ({ data: { pad: "x".repeat(500), body } }) });
    for (let i = 0; i < 20; i++) await byBytes.post(`{ q${i} }`);
    const stats = byBytes.cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(4_000);
    expect(stats.entries).toBeGreaterThan(0);
    expect(stats.entries).toBeLessThan(20);
  });

  test("a version read that fails answers uncached and forgets every entry", async () => {
    let fail = false;
    const cache = responseCache({
      readVersion: async () => {
        if (fail) throw new Error("connection lost");
        return "v1";
      },
      maxEntries: 10,
      maxBytes: 1_000_000,
      maxBodyBytes: 128 * 1024,
    });
    const app = new Hono();
    app.use("/graphql", cache);
    app.post("/graphql", (c) => c.json({ data: { ok: true } }));
    const post = async () =>
      (await app.request("/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).headers.get(CACHE_HEADER);
    expect(await post()).toBe("miss");
    expect(await post()).toBe("hit");
    fail = true;
    expect(await post()).toBe("bypass");
    expect(cache.stats().entries).toBe(0);
    fail = false;
    expect(await post()).toBe("miss");
  });
});

describe("coalesceAfterArrival", () => {
  test("callers share a read, but never one that started before they called", async () => {
    const reads: { started: number; done: ReturnType<typeof deferred<number>> }[] = [];
    let calls = 0;
    const read = coalesceAfterArrival(() => {
      const done = deferred<number>();
      reads.push({ started: calls, done });
      return done.promise;
    });
    calls++;
    const a = read(); // starts read 0
    calls++;
    const b = read(); // read 0 is in flight: queues for read 1
    calls++;
    const c = read(); // shares queued read 1
    expect(reads).toHaveLength(1);
    reads[0]!.done.resolve(10);
    expect(await a).toBe(10);
    await expect.poll(() => reads.length).toBe(2);
    expect(reads[1]!.started).toBe(3);
    reads[1]!.done.resolve(11);
    expect([await b, await c]).toEqual([11, 11]);
  });

  test("a failed read does not block the next caller", async () => {
    let n = 0;
    const read = coalesceAfterArrival(async () => {
      n++;
      if (n === 1) throw new Error("first fails");
      return n;
    });
    await expect(read()).rejects.toThrow("first fails");
    expect(await read()).toBe(2);
  });
});

describe("GraphQL response cache: request bodies", () => {
  test("a chunked body with no Content-Length is read only up to maxBodyBytes, then refused with 413", async () => {
    const { app, state } = createApp();
    let pulled = 0;
    const chunk = new TextEncoder().encode(`"${"a".repeat(16 * 1024)}",`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"query":"{ a }","pad":['));
      },
      pull(controller) {
        // Endless unless the reader stops: bounded here at 64 MiB so a failing run ends.
        if (pulled > 64 * 1024 * 1024) return controller.close();
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await app.request("/graphql", { method: "POST", headers: { "content-type": "application/json" }, body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      errors: [{ message: "Request body larger than 131072 bytes (API_MAX_BODY_BYTES).", extensions: { code: "BODY_TOO_LARGE" } }],
    });
    expect(pulled).toBeLessThan(256 * 1024);
    expect(state.executions).toBe(0);
  });
});

describe("loadApiEnv", () => {
  test("request limits: defaults and values from the environment", () => {
    expect(loadApiEnv({ env: {} })).toMatchObject({
      maxBodyBytes: 128 * 1024,
      graphqlMaxVariablesBytes: 64 * 1024,
      graphqlMaxFilterClauses: 200,
      graphqlMaxFilterDepth: 8,
      graphqlMaxListItems: 1_000,
      maxConcurrentRequests: 16,
      maxQueuedRequests: 32,
      queueTimeoutMs: 2_000,
      corsOrigins: ["http://127.0.0.1:*", "http://localhost:*"],
    });
    const env = {
      API_MAX_BODY_BYTES: "1048576",
      GRAPHQL_MAX_VARIABLES_BYTES: "1024",
      GRAPHQL_MAX_FILTER_CLAUSES: "50",
      GRAPHQL_MAX_FILTER_DEPTH: "4",
      GRAPHQL_MAX_LIST_ITEMS: "100",
      API_MAX_CONCURRENT_REQUESTS: "4",
      API_MAX_QUEUED_REQUESTS: "0",
      API_QUEUE_TIMEOUT_MS: "250",
      API_CORS_ORIGINS: "https://app.example.org, http://localhost:*",
    };
    expect(loadApiEnv({ env })).toMatchObject({
      maxBodyBytes: 1_048_576,
      graphqlMaxVariablesBytes: 1_024,
      graphqlMaxFilterClauses: 50,
      graphqlMaxFilterDepth: 4,
      graphqlMaxListItems: 100,
      maxConcurrentRequests: 4,
      maxQueuedRequests: 0,
      queueTimeoutMs: 250,
      corsOrigins: ["https://app.example.org", "http://localhost:*"],
    });
  });

  test("defaults: 10,000 entries in 64 MiB, 30 s per SQL query; 0 entries turns the cache off", () => {
    expect(loadApiEnv({ env: {} })).toMatchObject({ graphqlCacheMaxEntries: 10_000, graphqlCacheMaxBytes: 64 * 1024 * 1024, sqlTimeoutMs: 30_000 });
    expect(loadApiEnv({ env: { GRAPHQL_CACHE_MAX_ENTRIES: "0", GRAPHQL_CACHE_MAX_MB: "8", SQL_TIMEOUT_MS: "5000" } })).toMatchObject({
      graphqlCacheMaxEntries: 0,
      graphqlCacheMaxBytes: 8 * 1024 * 1024,
      sqlTimeoutMs: 5_000,
    });
  });

  test.each([
    [{ GRAPHQL_CACHE_MAX_ENTRIES: "lots" }, 'GRAPHQL_CACHE_MAX_ENTRIES must be a whole number, got "lots".'],
    [{ GRAPHQL_CACHE_MAX_MB: "0" }, "GRAPHQL_CACHE_MAX_MB must be between 1 and 65536, got 0."],
    [{ SQL_TIMEOUT_MS: "5" }, "SQL_TIMEOUT_MS must be between 100 and 3600000, got 5."],
    [{ API_MAX_BODY_BYTES: "10" }, "API_MAX_BODY_BYTES must be between 1024 and 67108864, got 10."],
    [
      { API_MAX_BODY_BYTES: "2048", GRAPHQL_MAX_VARIABLES_BYTES: "4096" },
      "GRAPHQL_MAX_VARIABLES_BYTES (4096) is larger than API_MAX_BODY_BYTES (2048): lower it or raise API_MAX_BODY_BYTES.",
    ],
    [{ GRAPHQL_MAX_FILTER_CLAUSES: "0" }, "GRAPHQL_MAX_FILTER_CLAUSES must be between 1 and 100000, got 0."],
    [{ GRAPHQL_MAX_FILTER_DEPTH: "100" }, "GRAPHQL_MAX_FILTER_DEPTH must be between 1 and 64, got 100."],
    [{ GRAPHQL_MAX_LIST_ITEMS: "many" }, 'GRAPHQL_MAX_LIST_ITEMS must be a whole number, got "many".'],
    [{ API_MAX_CONCURRENT_REQUESTS: "0" }, "API_MAX_CONCURRENT_REQUESTS must be between 1 and 10000, got 0."],
    [{ API_MAX_QUEUED_REQUESTS: "-1" }, 'API_MAX_QUEUED_REQUESTS must be a whole number, got "-1".'],
    [{ API_QUEUE_TIMEOUT_MS: "1" }, "API_QUEUE_TIMEOUT_MS must be between 10 and 600000, got 1."],
    [
      { API_CORS_ORIGINS: "https://app.example.org/" },
      'API_CORS_ORIGINS must be a comma-separated list of origins like https://app.example.org or http://localhost:* (no path, no trailing slash), got "https://app.example.org/".',
    ],
    [{ API_CORS_ORIGINS: " , " }, "API_CORS_ORIGINS is empty: list at least one origin, e.g. https://app.example.org."],
  ])("%o is refused: %s", (env, message) => {
    expect(() => loadApiEnv({ env })).toThrow(new ConfigError(message));
  });
});
