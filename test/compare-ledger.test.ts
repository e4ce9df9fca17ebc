/**
 * The reconciler's ledger comparison (ops/compare-ledger.ts) on its own: which receipts it needs,
 * and every difference between a ledger record, its receipt and the index at block B.
 */
import { expect, test } from "vitest";
import type { Discrepancy } from "../common/ops-api";
import { type LedgerMined, type MinedByLogs, type MinedReceipt, compareLedger, receiptsToFetch } from "../ops/compare-ledger";

const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const bh = (n: number) => `0xb${n.toString(16).padStart(63, "0")}`;

test("compareLedger: receipts at the ledger's block hash, succeeded, and reconciled records indexed", () => {
  const B = 100n;
  const records: LedgerMined[] = [
    // Fine: logs at its block hash, indexed.
    { hash: h(1), kind: "contribution", status: "reconciled", blockNumber: 10n, blockHash: bh(10) },
    // Fine: confirmed, not indexed yet (only reconciled ones must be).
    { hash: h(2), kind: "payout", status: "confirmed", blockNumber: 11n, blockHash: bh(11) },
    // Above B: not covered at this block.
    { hash: h(3), kind: "contribution", status: "confirmed", blockNumber: 101n, blockHash: bh(101) },
    // No receipt at all.
    { hash: h(4), kind: "contribution", status: "confirmed", blockNumber: 12n, blockHash: bh(12) },
    // Mined again elsewhere after a reorg the ledger missed.
    { hash: h(5), kind: "contribution", status: "reconciled", blockNumber: 13n, blockHash: bh(13) },
    // Reverted, though the ledger says confirmed.
    { hash: h(6), kind: "payout", status: "confirmed", blockNumber: 14n, blockHash: bh(14) },
    // Reconciled, its receipt fine, but the index has no row.
    { hash: h(7), kind: "createChama", status: "reconciled", blockNumber: 15n, blockHash: bh(15) },
    // Reconciled, no receipt, and not indexed.
    { hash: h(8), kind: "contribution", status: "reconciled", blockNumber: 16n, blockHash: bh(16) },
  ];
  const mined: MinedByLogs = new Map([
    [h(1), { blockNumber: 10n, blockHash: bh(10) }],
    [h(2), { blockNumber: 11n, blockHash: bh(11) }],
    [h(5), { blockNumber: 20n, blockHash: bh(20) }],
    [h(7), { blockNumber: 15n, blockHash: bh(15) }],
  ]);
  // Only the covered records without a log at their block hash need a receipt.
  expect(receiptsToFetch({ block: B, records, mined })).toEqual([h(4), h(5), h(6), h(8)]);

  const receipts = new Map<string, MinedReceipt>([
    [h(4), null],
    [h(5), { status: "success", blockNumber: 20n, blockHash: bh(20) }],
    [h(6), { status: "reverted", blockNumber: 14n, blockHash: bh(14) }],
    [h(8), null],
  ]);
  const found: Discrepancy[] = [];
  const checked = compareLedger({ block: B, records, mined, receipts, indexed: new Set([h(1), h(5)]), report: (d) => found.push(d) });
  expect(checked).toBe(7);
  expect(found).toEqual([
    {
      kind: "extra_in_db",
      table: "ledger",
      key: h(4),
      db: { status: "confirmed", kind: "contribution", blockNumber: "12", blockHash: bh(12), receipt: "success" },
      chain: null,
    },
    {
      kind: "value_mismatch",
      table: "ledger",
      key: h(5),
      fields: ["blockNumber", "blockHash"],
      db: { status: "reconciled", kind: "contribution", blockNumber: "13", blockHash: bh(13), receipt: "success", indexed: "yes" },
      chain: { blockNumber: "20", blockHash: bh(20), receipt: "success", indexed: "yes" },
    },
    {
      kind: "value_mismatch",
      table: "ledger",
      key: h(6),
      fields: ["receipt"],
      db: { status: "confirmed", kind: "payout", blockNumber: "14", blockHash: bh(14), receipt: "success" },
      chain: { blockNumber: "14", blockHash: bh(14), receipt: "reverted" },
    },
    {
      kind: "value_mismatch",
      table: "ledger",
      key: h(7),
      fields: ["indexed"],
      db: { status: "reconciled", kind: "createChama", blockNumber: "15", blockHash: bh(15), receipt: "success", indexed: "yes" },
      chain: { blockNumber: "15", blockHash: bh(15), receipt: "success", indexed: "no" },
    },
    {
      kind: "extra_in_db",
      table: "ledger",
      key: h(8),
      db: { status: "reconciled", kind: "contribution", blockNumber: "16", blockHash: bh(16), receipt: "success", indexed: "yes" },
      chain: { receipt: null, indexed: "no" },
    },
  ]);
});

test("compareLedger: hashes compare without regard to case, and an empty ledger checks nothing", () => {
  const upper = { hash: h(1).toUpperCase().replace("0X", "0x"), kind: "contribution", status: "reconciled" as const, blockNumber: 1n, blockHash: bh(1).toUpperCase().replace("0X", "0x") };
  const mined: MinedByLogs = new Map([[h(1), { blockNumber: 1n, blockHash: bh(1) }]]);
  const found: Discrepancy[] = [];
  expect(receiptsToFetch({ block: 5n, records: [upper], mined })).toEqual([]);
  expect(compareLedger({ block: 5n, records: [upper], mined, receipts: new Map(), indexed: new Set([h(1)]), report: (d) => found.push(d) })).toBe(1);
  expect(found).toEqual([]);
  expect(compareLedger({ block: 5n, records: [], mined, receipts: new Map(), indexed: new Set(), report: (d) => found.push(d) })).toBe(0);
});
