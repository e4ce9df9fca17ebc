/** The action store: exact bigints through storage, the age limit, and tabs sharing storage. */
import { describe, expect, test } from "vitest";
import { ActionStore, DEFAULT_MAX_AGE_MS, deserializeActions, memoryStorage, serializeActions } from "../../web/src/sync/store";
import type { Action } from "../../web/src/sync/types";

const NOW = 1_700_000_000_000;

function action(overrides: Partial<Action>): Action {
  return {
    id: "a",
    chainId: 31337,
    account: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    params: { kind: "contribution", chamaId: 1n, amount: 2n ** 70n + 1n },
    status: "draft",
    createdAt: NOW,
    updatedAt: NOW,
    hashes: [],
    ...overrides,
  };
}

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

  test("unreadable storage fails loudly, naming the key", () => {
    const storage = memoryStorage();
    storage.setItem("jenga.actions.v1", "{not json");
    expect(() => new ActionStore({ storage, now: () => NOW })).toThrow(/jenga\.actions\.v1.*clear that key/);
  });
});
