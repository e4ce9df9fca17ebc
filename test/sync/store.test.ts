/** The action store: exact bigints through storage, the age limit, and tabs sharing storage. */
import { describe, expect, test, vi } from "vitest";
import { ActionStore, DEFAULT_MAX_AGE_MS, deserializeActions, memoryStorage, serializeActions } from "../../web/src/sync/store";
import { ACTION_NOW as NOW, savedAction as action } from "../_support/actions";


describe("ActionStore", () => {
  test("bigints above 2^53 survive storage exactly", () => {
    const list = [action({ blockNumber: 2n ** 64n })];
    const back = deserializeActions(serializeActions(list));
    expect(back).toEqual(list);
    expect(back[0]!.params.kind === "contribution" && back[0]!.params.amount).toBe(2n ** 70n + 1n);
  });

  test("forgets settled actions past the age limit but keeps pending ones", () => {
    const storage = memoryStorage();
    const old = NOW - DEFAULT_MAX_AGE_MS - 1;
    const writer = new ActionStore({ storage, now: () => NOW });
    writer.put(action({ id: "old-reconciled", status: "reconciled", createdAt: old }));
    writer.put(action({ id: "old-pending", status: "pending", createdAt: old }));
    writer.put(action({ id: "fresh", status: "failed" }));
    const reader = new ActionStore({ storage, now: () => NOW });
    expect(reader.list().map((a) => a.id).sort()).toEqual(["fresh", "old-pending"]);
  });

  test("a second tab sees the first tab's writes on reload, keeping the newer copy", () => {
    const storage = memoryStorage();
    let now = NOW;
    const tabA = new ActionStore({ storage, now: () => now });
    const tabB = new ActionStore({ storage, now: () => now });
    tabA.put(action({ id: "x" }));
    tabB.reload();
    expect(tabB.get("x")?.status).toBe("draft");
    now += 10;
    tabA.update("x", { status: "pending" });
    let notified = 0;
    tabB.subscribe(() => notified++);
    tabB.reload();
    expect(tabB.get("x")?.status).toBe("pending");
    expect(notified).toBe(1);
  });

  test("list() keeps its identity until something changes", () => {
    const store = new ActionStore({ storage: memoryStorage(), now: () => NOW });
    store.put(action({ id: "x" }));
    const first = store.list();
    expect(store.list()).toBe(first);
    store.update("x", { status: "pending" });
    expect(store.list()).not.toBe(first);
  });

  test("updateMany applies every patch as one change: one save, one sort, one notification", () => {
    const storage = memoryStorage();
    let now = NOW;
    const store = new ActionStore({ storage, now: () => now });
    for (const id of ["a", "b", "c"]) store.put(action({ id, updatedAt: id === "b" ? NOW + 50 : NOW }));
    const other = new ActionStore({ storage, now: () => now });
    const setItem = vi.spyOn(storage, "setItem");
    let notified = 0;
    store.subscribe(() => notified++);
    const listBefore = store.list();
    now += 10;

    const out = store.updateMany([
      { id: "a", patch: { status: "pending" } },
      { id: "b", patch: { status: "pending" } },
      // A second patch for one id applies on top of the first.
      { id: "a", patch: { hashes: ["0x01"] } },
    ]);

    expect(setItem).toHaveBeenCalledTimes(1);
    expect(notified).toBe(1);
    expect(store.list()).not.toBe(listBefore);
    expect(store.list().map((a) => a.id)).toEqual(["a", "b", "c"]);
    // Stamped as update() stamps: the clock, or one past the previous stamp if that is later.
    expect(store.get("a")).toMatchObject({ status: "pending", hashes: ["0x01"], updatedAt: NOW + 11 });
    expect(store.get("b")).toMatchObject({ status: "pending", updatedAt: NOW + 51 });
    expect(store.get("c")).toMatchObject({ status: "draft", updatedAt: NOW });
    expect(out.map((a) => a.id)).toEqual(["a", "b", "a"]);
    expect(out[2]).toBe(store.get("a"));
    // Another tab reads all of it from the one save.
    other.reload();
    expect(other.list()).toEqual(store.list());
  });

  test("updateMany with an unknown id changes nothing; with no patches it writes nothing", () => {
    const storage = memoryStorage();
    const store = new ActionStore({ storage, now: () => NOW + 10 });
    store.put(action({ id: "a" }));
    const saved = storage.getItem("jenga.actions.v1");
    const setItem = vi.spyOn(storage, "setItem");
    let notified = 0;
    store.subscribe(() => notified++);

    expect(() => store.updateMany([{ id: "a", patch: { status: "pending" } }, { id: "nope", patch: {} }])).toThrow("unknown action nope");
    expect(store.updateMany([])).toEqual([]);

    expect(setItem).not.toHaveBeenCalled();
    expect(notified).toBe(0);
    expect(store.get("a")?.status).toBe("draft");
    expect(storage.getItem("jenga.actions.v1")).toBe(saved);
  });

  test("add keeps one action per intentId, also against another tab's unseen write", () => {
    const storage = memoryStorage();
    const tabA = new ActionStore({ storage, now: () => NOW });
    const tabB = new ActionStore({ storage, now: () => NOW });
    expect(tabA.add(action({ id: "first", intentId: "i-1" })).id).toBe("first");
    const saved = storage.getItem("jenga.actions.v1");

    // Tab B has not reloaded: add re-reads storage and keeps tab A's action.
    expect(tabB.add(action({ id: "second", intentId: "i-1" })).id).toBe("first");
    expect(storage.getItem("jenga.actions.v1")).toBe(saved);
    expect(tabB.list().map((a) => a.id)).toEqual(["first"]);

    expect(tabB.add(action({ id: "other", intentId: "i-2" })).id).toBe("other");
    expect(tabB.add(action({ id: "plain" })).id).toBe("plain");
    tabA.reload();
    expect(tabA.list().map((a) => a.id).sort()).toEqual(["first", "other", "plain"]);
  });

  test("a dismissal is saved and a second store sees it, even one that writes from a stale copy", () => {
    const storage = memoryStorage();
    let now = NOW;
    const tabA = new ActionStore({ storage, now: () => now });
    const tabB = new ActionStore({ storage, now: () => now });
    tabA.put(action({ id: "x", status: "failed", error: { reason: "reverted", message: "reverted" } }));
    tabA.put(action({ id: "y", status: "pending" }));
    tabB.reload();
    now += 10;
    tabA.update("x", { dismissedAt: now });

    // Tab B has not reloaded: its copy of "x" is the undismissed one. Its own writes (an
    // update, a put) start from storage and keep tab A's dismissal.
    expect(tabB.get("x")?.dismissedAt).toBeUndefined();
    now += 10;
    tabB.update("y", { status: "confirmed" });
    tabB.put(action({ id: "z" }));
    expect(tabB.get("x")?.dismissedAt).toBe(NOW + 10);

    const reloaded = new ActionStore({ storage, now: () => now });
    expect(reloaded.get("x")?.dismissedAt).toBe(NOW + 10);
    expect(reloaded.get("y")?.status).toBe("confirmed");
    expect(reloaded.list().map((a) => a.id)).toEqual(["x", "y", "z"]);
    tabA.reload();
    expect(tabA.get("y")?.status).toBe("confirmed");
  });

  test("unreadable storage fails loudly, naming the key", () => {
    const storage = memoryStorage();
    storage.setItem("jenga.actions.v1", "{not json");
    expect(() => new ActionStore({ storage, now: () => NOW })).toThrow(/jenga\.actions\.v1.*clear that key/);
  });
});
