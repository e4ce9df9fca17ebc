/**
 * One keyed comparison for every table the reconciler checks. The chain wins: a key the chain
 * has and the index lacks is `missing_in_db`, an index row the chain lacks (or a second index
 * row under one key) is `extra_in_db`, and a key on both sides whose values differ is
 * `value_mismatch`, naming the fields that differ.
 */
import type { Discrepancy, DiscrepancyTable, Values } from "../common/ops-api";

export type CompareKeyedParameters<Row> = {
  table: DiscrepancyTable;
  /** What the chain says, key by key, in report order. */
  chain: Iterable<readonly [key: string, values: Values]>;
  /** The index's rows, in report order for the extra ones. */
  db: Iterable<Row>;
  keyOf: (row: Row) => string;
  valuesOf: (row: Row) => Values;
  /** What the chain says about a key only the index has (default: nothing, `null`). */
  chainOfExtra?: (key: string) => Values | null;
  report: (discrepancy: Discrepancy) => void;
};

/** Compares the chain's values with the index's rows by key and reports every difference:
 * duplicate index rows first, then the chain's keys in order, then the index rows left over. */
export function compareKeyed<Row>(params: CompareKeyedParameters<Row>): void {
  const { table, keyOf, valuesOf, report } = params;
  const chainOfExtra = params.chainOfExtra ?? (() => null);
  const byKey = new Map<string, Row>();
  for (const row of params.db) {
    const key = keyOf(row);
    if (byKey.has(key)) report({ kind: "extra_in_db", table, key, db: valuesOf(row), chain: chainOfExtra(key) });
    else byKey.set(key, row);
  }
  for (const [key, chain] of params.chain) {
    const row = byKey.get(key);
    if (!row) {
      report({ kind: "missing_in_db", table, key, db: null, chain });
      continue;
    }
    byKey.delete(key);
    const db = valuesOf(row);
    const fields = Object.keys(chain).filter((f) => db[f] !== chain[f]);
    if (fields.length > 0) report({ kind: "value_mismatch", table, key, fields, db, chain });
  }
  for (const [key, row] of byKey) report({ kind: "extra_in_db", table, key, db: valuesOf(row), chain: chainOfExtra(key) });
}
