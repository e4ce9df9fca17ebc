/**
 * The IndexedDB action store's own rules, on fake-indexeddb (the browser's real IndexedDB is
 * tested in test/e2e/store.test.ts): one record written per changed action, tabs told by
 * BroadcastChannel, a stale tab's write applied to the newest stored copy, the localStorage
 * store moved in once, an unreadable one reported and left, no IndexedDB reported, and a refused
 * write holding back the send.
 */
import "fake-indexeddb/auto";
import { IDBObjectStore as FakeObjectStore } from "fake-indexeddb";
import { afterEach, describe, expect, test, vi } from "vitest";
import { SAT } from "../../common/chain";
import { SyncEngine } from "../../web/src/sync/engine";
import { IdbActionStore, type LegacyStorage } from "../../web/src/sync/idbStore";
import { memoryLock } from "../../web/src/sync/lock";
import { DEFAULT_MAX_AGE_MS, DEFAULT_STORAGE_KEY, StoreWriteError, serializeActions } from "../../web/src/sync/store";
import type { Action } from "../../web/src/sync/types";
import { ALICE, ACTION_NOW as NOW, savedAction as action } from "../_support/actions";
import { FakeChain, FakeClock, FakeIndexer, settle } from "../_support/fakes";


let dbCount = 0;
const opened: IdbActionStore[] = [];

/** A store on its own fresh database (tabs of one test share `dbName`). */
function openStore(options: { dbName: string; now?: () => number; legacy?: LegacyStorage; lock?: ReturnType<typeof memoryLock> }): IdbActionStore {
  const store = new IdbActionStore({
    dbName: options.dbName,
    now: options.now ?? (() => NOW),
    ...(options.legacy ? { legacy: { storage: options.legacy } } : {}),
    lock: options.lock,
  });
  opened.push(store);
  return store;
}

function freshName(): string {
  return `jenga-actions-test-${++dbCount}-${process.pid}`;
}

function legacyStorage(text: string | null): LegacyStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  if (text !== null) data.set(DEFAULT_STORAGE_KEY, text);
  return { data, getItem: (key) => data.get(key) ?? null, removeItem: (key) => void data.delete(key) };
}

/** Waits until `check` holds (a broadcast is delivered on a later turn of the event loop). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of opened.splice(0)) await store.close();
});

describe("IdbActionStore", () => {
  test("a change writes the records it changed, alone, and a reload reads every action back exactly", async () => {
    const dbName = freshName();
    const store = openStore({ dbName });
    await store.loading();
    for (let i = 0; i < 50; i++) store.put(action({ id: `a${i}`, createdAt: NOW + i, blockNumber: 2n ** 64n + BigInt(i) }));
    await store.flush();

    const put = vi.spyOn(FakeObjectStore.prototype, "put");
    store.update("a7", { status: "pending" });
    store.updateMany([
      { id: "a8", patch: { status: "pending" } },
      { id: "a9", patch: { status: "pending" } },
      { id: "a8", patch: { hashes: ["0x01"] } },
    ]);
    await store.flush();
    expect(put.mock.calls.map(([value]) => (value as Action).id).sort()).toEqual(["a7", "a8", "a9"]);

    const reloaded = openStore({ dbName });
    await reloaded.loading();
    expect(reloaded.list()).toEqual(store.list());
    expect(reloaded.get("a8")).toMatchObject({ status: "pending", hashes: ["0x01"] });
    expect(reloaded.get("a3")!.blockNumber).toBe(2n ** 64n + 3n);
    const params = reloaded.get("a3")!.params;
    expect(params.kind === "contribution" && params.amount).toBe(2n ** 70n + 1n);
  });

  test("list() stays in creation order through patches, adds and an update that moves an action", async () => {
    const store = openStore({ dbName: freshName() });
    await store.loading();
    // Added out of order, two with the same creation time (then ordered by id).
    for (const [id, at] of [["c", 3], ["a", 1], ["b2", 2], ["b1", 2]] as const) store.add(action({ id, createdAt: NOW + at }));
    const ids = () => store.list().map((a) => a.id);
    expect(ids()).toEqual(["a", "b1", "b2", "c"]);
    const before = store.list();
    store.updateMany([
      { id: "b2", patch: { status: "pending" } },
      { id: "a", patch: { status: "pending" } },
    ]);
    // A new array (listeners compare by identity), the same order, the patched copies in place.
    expect(store.list()).not.toBe(before);
    expect(ids()).toEqual(["a", "b1", "b2", "c"]);
    expect(store.list().map((a) => a.status)).toEqual(["pending", "draft", "pending", "draft"]);
    expect(store.list()[2]).toBe(store.get("b2"));
    store.add(action({ id: "a0", createdAt: NOW }));
    store.update("c", { status: "pending" });
    expect(ids()).toEqual(["a0", "a", "b1", "b2", "c"]);
    // A patch that changes the creation time moves the action.
    store.update("a0", { createdAt: NOW + 4 });
    expect(ids()).toEqual(["a", "b1", "b2", "c", "a0"]);
    await store.flush();
  });

  test("another tab learns of a change by broadcast, reads that record alone, and is told", async () => {
    const dbName = freshName();
    const tabA = openStore({ dbName });
    const tabB = openStore({ dbName });
    await Promise.all([tabA.loading(), tabB.loading()]);
    let external = 0;
    tabB.subscribeExternal(() => external++);

    tabA.put(action({ id: "x" }));
    await until(() => tabB.get("x") !== undefined, "tab B to see x");
    expect(external).toBe(1);
    tabA.update("x", { status: "pending" });
    await until(() => tabB.get("x")?.status === "pending", "tab B to see x pending");
    expect(tabB.list()).toEqual(tabA.list());
  });

  test("a tab whose copy is behind writes its patch onto the stored record's newer copy", async () => {
    const dbName = freshName();
    let now = NOW;
    const tabA = openStore({ dbName, now: () => now });
    await tabA.loading();
    tabA.put(action({ id: "x", status: "pending" }));
    await tabA.flush();
    // Tab B does not hear tab A (its copy of x stays behind).
    const deaf = { postMessage: () => undefined, addEventListener: () => undefined, close: () => undefined };
    const tabB = new IdbActionStore({ dbName, now: () => now, channel: deaf });
    opened.push(tabB);
    await tabB.loading();

    now += 10;
    tabA.update("x", { dismissedAt: now, status: "failed" });
    await tabA.flush();
    now += 10;
    tabB.update("x", { hashes: ["0x02"] });
    await tabB.flush();

    const reloaded = openStore({ dbName, now: () => now });
    await reloaded.loading();
    expect(reloaded.get("x")).toMatchObject({ status: "failed", dismissedAt: NOW + 10, hashes: ["0x02"] });
    // Tab B took the rebased copy as its own.
    expect(tabB.get("x")).toEqual(reloaded.get("x"));
  });

  test("forgets settled actions past the age limit on load, keeping pending ones", async () => {
    const dbName = freshName();
    const old = NOW - DEFAULT_MAX_AGE_MS - 1;
    const writer = openStore({ dbName });
    await writer.loading();
    writer.put(action({ id: "old-reconciled", status: "reconciled", createdAt: old }));
    writer.put(action({ id: "old-pending", status: "pending", createdAt: old }));
    writer.put(action({ id: "fresh", status: "failed" }));
    await writer.flush();
    const reader = openStore({ dbName });
    await reader.loading();
    expect(reader.list().map((a) => a.id).sort()).toEqual(["fresh", "old-pending"]);
  });

  test("the localStorage store is moved in once by two tabs opening together, then the key is gone", async () => {
    const dbName = freshName();
    const saved = Array.from({ length: 200 }, (_, i) => action({ id: `old-${i}`, createdAt: NOW + i, status: i % 2 ? "failed" : "pending" }));
    const legacy = legacyStorage(serializeActions(saved));
    const lock = memoryLock();
    const tabA = openStore({ dbName, legacy, lock });
    const tabB = openStore({ dbName, legacy, lock });
    await Promise.all([tabA.loading(), tabB.loading()]);

    expect(legacy.data.has(DEFAULT_STORAGE_KEY)).toBe(false);
    expect(tabA.list()).toEqual(saved);
    expect(tabB.list()).toEqual(saved);
    const reloaded = openStore({ dbName, legacy, lock });
    await reloaded.loading();
    expect(reloaded.list()).toEqual(saved);
    expect(await migrationRuns(dbName)).toBe(1);
    expect(tabA.notices()).toEqual([]);
  });

  test("a second move (a crash after the commit left the key) keeps every newer copy", async () => {
    const dbName = freshName();
    const text = serializeActions([action({ id: "x" }), action({ id: "y" })]);
    const legacy = legacyStorage(text);
    const first = openStore({ dbName, legacy });
    await first.loading();
    first.update("x", { status: "pending" });
    await first.flush();
    legacy.data.set(DEFAULT_STORAGE_KEY, text);

    const again = openStore({ dbName, legacy });
    await again.loading();
    expect(again.get("x")?.status).toBe("pending");
    expect(again.list().map((a) => a.id)).toEqual(["x", "y"]);
    expect(legacy.data.has(DEFAULT_STORAGE_KEY)).toBe(false);
  });

  test("an unreadable localStorage store is reported, left in place, and does not stop the store", async () => {
    const dbName = freshName();
    const legacy = legacyStorage("{not json");
    const store = openStore({ dbName, legacy });
    await store.loading();
    expect(store.notices()).toEqual([
      { code: "legacy-unreadable", message: expect.stringMatching(/localStorage key "jenga\.actions\.v1".*unreadable.*left in place/) },
    ]);
    expect(legacy.data.get(DEFAULT_STORAGE_KEY)).toBe("{not json");
    store.put(action({ id: "new" }));
    await store.flush();
    expect(await migrationRuns(dbName)).toBe(0);
  });

  test("without IndexedDB the actions live in memory and the store says they will not survive a reload", async () => {
    const store = new IdbActionStore({ now: () => NOW, indexedDB: undefined, channel: undefined });
    opened.push(store);
    await store.loading();
    expect(store.durable).toBe(false);
    expect(store.notices()).toEqual([{ code: "memory-only", message: expect.stringContaining("will not survive a reload") }]);
    store.put(action({ id: "x" }));
    await store.flush();
    expect(store.get("x")?.status).toBe("draft");
  });

  test("a refused write holds back the send; once saving works the draft is sent, once", async () => {
    const dbName = freshName();
    const clock = new FakeClock();
    const chain = new FakeChain();
    const store = openStore({ dbName, now: clock.now });
    await store.loading();
    const engine = new SyncEngine({ store, chain, indexer: new FakeIndexer(), clock, newId: () => "draft-1" });
    await engine.start();

    const quota = new DOMException("The quota has been exceeded.", "QuotaExceededError");
    const put = vi.spyOn(FakeObjectStore.prototype, "put").mockImplementation(() => {
      throw quota;
    });
    engine.submit({ account: ALICE, params: { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT } });
    await until(() => engine.health().lastError !== undefined, "the engine to give up on the send");
    expect(chain.sent).toHaveLength(0);
    expect(engine.health().lastError).toContain("could not be saved");
    expect(store.notices().map((n) => n.code)).toEqual(["write-failed"]);
    await expect(store.flush()).rejects.toBeInstanceOf(StoreWriteError);
    // The pass after it tries again after the back-off; saving works again by then.
    put.mockRestore();
    clock.advance(500);
    await until(() => chain.sent.length === 1, "the send");
    expect(store.notices()).toEqual([]);
    await settle();
    expect(chain.sent).toHaveLength(1);
    expect(store.get("draft-1")?.status).toBe("pending");
    engine.stop();
    const reloaded = openStore({ dbName });
    await reloaded.loading();
    expect(reloaded.get("draft-1")).toMatchObject({ status: "pending", nonce: 0 });
  });
});

/** The migration's count of moves, read from the database's meta store. */
async function migrationRuns(dbName: string): Promise<number> {
  const request = indexedDB.open(dbName);
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("open failed"));
  });
  const record = await new Promise<{ runs: number } | undefined>((resolve, reject) => {
    const get = db.transaction("meta").objectStore("meta").get("migration");
    get.onsuccess = () => resolve(get.result as { runs: number } | undefined);
    get.onerror = () => reject(get.error ?? new Error("read failed"));
  });
  db.close();
  return record?.runs ?? 0;
}
