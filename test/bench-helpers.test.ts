import { describe, expect, test } from "vitest";
import { reconcile, reconcileNaive } from "../bench/lib/reconcile";
import { percentile } from "../bench/lib/stats";

const row = (id: string, transactionHash: `0x${string}`) => ({ id, transactionHash });

describe("reconcile", () => {
  const indexed = [row("a", "0xaa"), row("b", "0xbb"), row("c", "0xcc")];
  const pending = [row("p1", "0xBB"), row("p2", "0xdd"), row("p3", "0xAA")];

  test("confirms actions whose hash is indexed, whatever the action's case, and keeps the rest in order", () => {
    const result = reconcile({ pending, indexed });
    expect(result.confirmed.map(({ action, row }) => [action.id, row.id])).toEqual([
      ["p1", "b"],
      ["p3", "a"],
    ]);
    expect(result.pending.map((action) => action.id)).toEqual(["p2"]);
  });

  test("agrees with the naive search, including the first row for a repeated hash", () => {
    const withDuplicate = [...indexed, row("a2", "0xaa")];
    expect(reconcile({ pending, indexed: withDuplicate })).toEqual(reconcileNaive({ pending, indexed: withDuplicate }));
    expect(reconcile({ pending, indexed: withDuplicate }).confirmed[1]?.row.id).toBe("a");
  });

  test("handles empty inputs", () => {
    expect(reconcile({ pending: [], indexed })).toEqual({ confirmed: [], pending: [] });
    expect(reconcile({ pending, indexed: [] }).pending).toHaveLength(3);
  });
});

describe("percentile", () => {
  test("nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
