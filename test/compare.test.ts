import { describe, expect, test } from "vitest";
import type { Discrepancy } from "../common/ops-api";
import { compareKeyed } from "../ops/compare";

type Row = { id: string; amount: string };

/** Runs compareKeyed over `chain` and `db` and returns what it reported, in order. */
function compare(params: { chain: [string, { amount: string }][]; db: Row[]; chainOfExtra?: (key: string) => { amount: string } | null }) {
  const reported: Discrepancy[] = [];
  compareKeyed({ table: "payout", chain: params.chain, db: params.db, keyOf: (r) => r.id, valuesOf: (r) => ({ amount: r.amount }), chainOfExtra: params.chainOfExtra, report: (d) => reported.push(d) });
  return reported;
}

describe("compareKeyed", () => {
  test("equal sides report nothing", () => {
    expect(compare({ chain: [["a", { amount: "1" }]], db: [{ id: "a", amount: "1" }] })).toEqual([]);
  });

  test("duplicates first, then the chain's keys in order, then the rows left over", () => {
    const reported = compare({
      chain: [["b", { amount: "2" }], ["a", { amount: "1" }]],
      db: [{ id: "c", amount: "3" }, { id: "a", amount: "9" }, { id: "c", amount: "4" }],
    });
    expect(reported).toEqual([
      { kind: "extra_in_db", table: "payout", key: "c", db: { amount: "4" }, chain: null },
      { kind: "missing_in_db", table: "payout", key: "b", db: null, chain: { amount: "2" } },
      { kind: "value_mismatch", table: "payout", key: "a", fields: ["amount"], db: { amount: "9" }, chain: { amount: "1" } },
      { kind: "extra_in_db", table: "payout", key: "c", db: { amount: "3" }, chain: null },
    ]);
  });

  test("an extra row carries what chainOfExtra says about its key", () => {
    expect(compare({ chain: [], db: [{ id: "x", amount: "5" }], chainOfExtra: () => ({ amount: "0" }) })).toEqual([
      { kind: "extra_in_db", table: "payout", key: "x", db: { amount: "5" }, chain: { amount: "0" } },
    ]);
  });
});
