import type { Address, Hash } from "viem";
import { describe, expect, test } from "vitest";
import { findIndexedRowNaive } from "./reconcile";
import { percentile } from "./lib/stats";
import { findIndexedRow, indexRowsByHash } from "../web/src/sync/matching";
import type { Action, IndexedRow } from "../web/src/sync/types";

const ACCOUNT: Address = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
/** A lowercase hash with letters in it, so a case change shows. */
const h = (n: number): Hash => `0x${"ab".repeat(31)}${n.toString(16).padStart(2, "0")}`;

const row = (n: number, overrides: Partial<IndexedRow> = {}): IndexedRow => ({
  kind: "contribution",
  transactionHash: h(n),
  logIndex: 0,
  blockNumber: BigInt(n),
  chamaId: 1n,
  account: ACCOUNT,
  amount: BigInt(n),
  ...overrides,
});

const action = (id: string, hashes: Hash[], overrides: Partial<Action> = {}): Action => ({
  id,
  chainId: 31337,
  account: ACCOUNT,
  params: { kind: "contribution", chamaId: 1n, amount: 1n },
  status: "confirmed",
  createdAt: 0,
  updatedAt: 0,
  hash: hashes.at(-1),
  hashes,
  ...overrides,
});

describe("reconcile: the engine's matching and the naive reference", () => {
  const rows = [
    row(1),
    row(2, { logIndex: 3 }),
    row(2, { logIndex: 7 }),
    row(3, { kind: "payout" }),
    row(4, { kind: "createChama", logIndex: undefined, name: "Savers" }),
    row(5),
    row(5, { amount: 55n }),
  ];
  const actions = [
    action("upper-case hash", [`0x${h(1).slice(2).toUpperCase()}`]),
    action("second log of a transaction", [h(2)], { logIndex: 7 }),
    action("log index not known yet", [h(2)]),
    action("no row with that log index", [h(2)], { logIndex: 4 }),
    action("other kind", [h(3)]),
    action("row without a log index", [h(4)], { params: { kind: "createChama", name: "Savers", contributionAmount: 1n }, logIndex: 9 }),
    action("sped up: the second hash landed", [h(9), h(1)]),
    action("first of two rows", [h(5)]),
    action("not indexed", [h(8)]),
  ];
  const engine = (a: Action) => findIndexedRow({ action: a, byHash: indexRowsByHash({ rows }) });

  test("the engine matches by hash (any case), kind and log index, in hash order", () => {
    expect(actions.map((a) => engine(a)?.amount ?? null)).toEqual([1n, 2n, 2n, null, null, 4n, 1n, 5n, null]);
    expect(engine(actions[1]!)?.logIndex).toBe(7);
    expect(engine(actions[2]!)?.logIndex).toBe(3);
  });

  test("the naive search gives the same row for every action", () => {
    for (const a of actions) expect(findIndexedRowNaive({ action: a, rows }), a.id).toBe(engine(a));
  });

  test("grouping only the actions' transactions leaves out the other rows and matches the same", () => {
    const hashes = new Set(actions.flatMap((a) => a.hashes.map((hash) => hash.toLowerCase())));
    const byHash = indexRowsByHash({ rows: [...rows, row(40), row(41)], hashes });
    expect([...byHash.keys()].sort()).toEqual([h(1), h(2), h(3), h(4), h(5)]);
    for (const a of actions) expect(findIndexedRow({ action: a, byHash }), a.id).toBe(engine(a));
  });

  test("the filter takes a row whatever the case of its hash", () => {
    const upper = row(70, { transactionHash: `0x${"C0FFEE".repeat(10)}ABCD` });
    const other = row(71, { transactionHash: `0x${"c0ffee".repeat(10)}abce` });
    const wanted = upper.transactionHash.toLowerCase() as Hash;
    const byHash = indexRowsByHash({ rows: [other, upper, row(1)], hashes: new Set([wanted]) });
    expect([...byHash.entries()]).toEqual([[wanted, [upper]]]);
    expect(findIndexedRow({ action: action("mixed case", [wanted]), byHash })).toBe(upper);
  });

  test("handles empty inputs", () => {
    expect(findIndexedRow({ action: actions[0]!, byHash: indexRowsByHash({ rows: [] }) })).toBeUndefined();
    expect(findIndexedRowNaive({ action: action("no hashes", []), rows })).toBeUndefined();
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
