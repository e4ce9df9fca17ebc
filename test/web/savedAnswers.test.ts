/** The views' saved answers (web/src/savedAnswers.ts) over a fake Cache Storage: a good answer
 * is kept and passed on untouched; only a request that reached nothing gets the saved copy, marked
 * with the time it was read; aborts, HTTP errors and answers with errors are never replaced or
 * kept; the cache is bounded and older formats are deleted. */
import { describe, expect, test } from "vitest";
import {
  type CacheLike,
  type CacheStorageLike,
  SAVED_CACHE,
  SAVED_EXTENSION,
  SAVED_MAX_ENTRIES,
  SavedAnswers,
  graphqlKey,
  savedAtOf,
  savedFetch,
} from "../../web/src/savedAnswers";

const URL_ = "http://127.0.0.1:42069/graphql";
const BODY = JSON.stringify({ query: "query Chamas { chamas { items { id } } }", variables: {} });
const ANSWER = { data: { chamas: { items: [{ id: "1" }] } } };

/** Cache Storage in memory: entries in the order they were written, as the real one lists them. */
function fakeStorage(initial: string[] = []) {
  const caches = new Map<string, Map<string, Response>>(initial.map((name) => [name, new Map()]));
  const open = (name: string): CacheLike => {
    const entries = caches.get(name) ?? new Map<string, Response>();
    caches.set(name, entries);
    return {
      match: async (key) => entries.get(key)?.clone(),
      put: async (key, response) => {
        entries.delete(key);
        entries.set(key, response);
      },
      delete: async (key) => entries.delete(key),
      keys: async () => [...entries.keys()].map((url) => ({ url })),
    };
  };
  const storage: CacheStorageLike = {
    open: async (name) => open(name),
    keys: async () => [...caches.keys()],
    delete: async (name) => caches.delete(name),
  };
  return { storage, caches };
}

/** Answers with `response` while it is set; throws fetch's TypeError (no network) otherwise. */
function scriptedFetch() {
  const calls: { url: string; body: unknown }[] = [];
  let next: (() => Response) | undefined;
  const fetcher: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), body: init?.body });
    if (init?.signal?.aborted) throw new DOMException("The operation was aborted.", "AbortError");
    if (!next) throw new TypeError("Failed to fetch");
    return next();
  };
  return {
    fetcher,
    calls,
    answer: (make: (() => Response) | undefined) => {
      next = make;
    },
  };
}

const json = (body: unknown, status = 200) => () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const post = (body = BODY, signal?: AbortSignal): RequestInit => ({ method: "POST", body, headers: { "content-type": "application/json" }, signal });

/** Waits for the saves started in the background by `savedFetch`. */
async function settled(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

describe("savedFetch", () => {
  test("a good answer is passed on and kept; with no network the saved copy comes back, marked with its read time", async () => {
    let now = 1_700_000_000_000;
    const { storage } = fakeStorage();
    const saved = new SavedAnswers({ storage, now: () => now });
    const net = scriptedFetch();
    const fetchSaved = savedFetch(saved, net.fetcher);

    net.answer(json({ ...ANSWER, extensions: { trace: 1 } }));
    const fresh = await fetchSaved(URL_, post());
    expect(await fresh.json()).toEqual({ ...ANSWER, extensions: { trace: 1 } });
    await settled();

    now += 180_000;
    net.answer(undefined);
    const copy = await fetchSaved(URL_, post());
    expect(copy.status).toBe(200);
    const body = (await copy.json()) as { extensions: Record<string, unknown> };
    expect(body).toEqual({ ...ANSWER, extensions: { trace: 1, [SAVED_EXTENSION]: { savedAt: 1_700_000_000_000 } } });
    expect(savedAtOf(body.extensions)).toBe(1_700_000_000_000);
    expect(savedAtOf(ANSWER as Record<string, unknown>)).toBeUndefined();
    // Every call went to the network first: a saved copy never stands in for a request not tried.
    expect(net.calls).toHaveLength(2);
  });

  test("with no saved copy, another query's copy or an abort, the fetch fails as it would have", async () => {
    const { storage } = fakeStorage();
    const saved = new SavedAnswers({ storage });
    const net = scriptedFetch();
    const fetchSaved = savedFetch(saved, net.fetcher);

    await expect(fetchSaved(URL_, post())).rejects.toThrow(TypeError);
    net.answer(json(ANSWER));
    await fetchSaved(URL_, post());
    await settled();
    net.answer(undefined);
    const other = JSON.stringify({ query: "query Chama($id: BigInt!) { chama(id: $id) { id } }", variables: { id: "2" } });
    await expect(fetchSaved(URL_, post(other))).rejects.toThrow("Failed to fetch");
    const controller = new AbortController();
    controller.abort();
    await expect(fetchSaved(URL_, post(BODY, controller.signal))).rejects.toMatchObject({ name: "AbortError" });
  });

  test("HTTP errors and answers with errors are passed on, never kept or replaced", async () => {
    const { storage, caches } = fakeStorage();
    const saved = new SavedAnswers({ storage });
    const net = scriptedFetch();
    const fetchSaved = savedFetch(saved, net.fetcher);

    net.answer(json({ errors: [{ message: "overloaded" }] }, 503));
    expect((await fetchSaved(URL_, post())).status).toBe(503);
    net.answer(json({ data: null, errors: [{ message: "bad query" }] }));
    expect(await (await fetchSaved(URL_, post())).json()).toEqual({ data: null, errors: [{ message: "bad query" }] });
    net.answer(json({ data: { chamas: null }, errors: [{ message: "partial" }] }));
    await fetchSaved(URL_, post());
    await settled();
    expect(caches.get(SAVED_CACHE)?.size ?? 0).toBe(0);
    net.answer(undefined);
    await expect(fetchSaved(URL_, post())).rejects.toThrow(TypeError);
  });

  test("only POSTs with a body are considered; without Cache Storage nothing is kept", async () => {
    const { storage, caches } = fakeStorage();
    const net = scriptedFetch();
    net.answer(json(ANSWER));
    await savedFetch(new SavedAnswers({ storage }), net.fetcher)(URL_, { method: "GET" });
    await settled();
    expect(caches.get(SAVED_CACHE)?.size ?? 0).toBe(0);

    const off = new SavedAnswers({ storage: undefined });
    expect(off.enabled).toBe(false);
    const fetchOff = savedFetch(off, net.fetcher);
    await fetchOff(URL_, post());
    net.answer(undefined);
    await expect(fetchOff(URL_, post())).rejects.toThrow(TypeError);
  });
});

describe("SavedAnswers", () => {
  test(`keeps at most ${SAVED_MAX_ENTRIES} answers, the oldest saved going first`, async () => {
    const { storage, caches } = fakeStorage();
    const saved = new SavedAnswers({ storage });
    for (let i = 0; i <= SAVED_MAX_ENTRIES; i++) await saved.save(graphqlKey(URL_, `{"i":${i}}`), JSON.stringify({ data: { i } }));
    expect(caches.get(SAVED_CACHE)?.size).toBe(SAVED_MAX_ENTRIES);
    expect(await saved.read(graphqlKey(URL_, `{"i":0}`))).toBeUndefined();
    expect((await saved.read<{ data: { i: number } }>(graphqlKey(URL_, `{"i":1}`)))?.body).toEqual({ data: { i: 1 } });
  });

  test("deletes the caches of older formats and leaves everything else alone", async () => {
    const { storage, caches } = fakeStorage(["jenga-saved-v0", "jenga-shell-abc", "other-app"]);
    await new SavedAnswers({ storage }).save("http://x/sync-health", "{}");
    expect([...caches.keys()].sort()).toEqual(["jenga-shell-abc", SAVED_CACHE, "other-app"].sort());
  });

  test("a copy without a read time is not an answer", async () => {
    const { storage } = fakeStorage();
    const saved = new SavedAnswers({ storage });
    const cache = await storage.open(SAVED_CACHE);
    await cache.put("http://x/sync-health", new Response("{}"));
    expect(await saved.read("http://x/sync-health")).toBeUndefined();
  });

  test("two reads differing in one variable have different keys", () => {
    expect(graphqlKey(URL_, '{"variables":{"id":"1"}}')).not.toBe(graphqlKey(URL_, '{"variables":{"id":"10"}}'));
  });
});
