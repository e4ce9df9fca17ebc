/**
 * The ledger's side of a reconciliation: its `confirmed` and `reconciled` records mined at or
 * below block B, read page by page from the ledger's own tables (LEDGER_SCHEMA on PostgreSQL,
 * the ledger's PGlite in the API process), never from Ponder's schemas.
 */
import { ReconcileError } from "./errors";
import type { LedgerMined } from "./compare-ledger";

/** A parameterised query on the ledger's database (a pg pool, LedgerSql.query). */
export type LedgerQuery = (text: string, values?: unknown[]) => Promise<Record<string, unknown>[]>;

/** What the reconciler reads the ledger with; `skipped` says why it is not checked. */
export type LedgerSource =
  | {
      /** Covered records mined at or below `block`. */
      read: (block: bigint) => Promise<LedgerMined[]>;
      /** The same records again, by hash, as they stand now (ones no longer covered are left out). */
      reread: (hashes: string[]) => Promise<LedgerMined[]>;
    }
  | { skipped: string };

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function toMined(row: Record<string, unknown>): LedgerMined {
  return {
    hash: String(row.hash).toLowerCase(),
    kind: String(row.kind),
    status: row.status as LedgerMined["status"],
    blockNumber: BigInt(String(row.block_number)),
    blockHash: String(row.block_hash).toLowerCase(),
  };
}

const COVERED = "status IN ('confirmed', 'reconciled') AND block_number IS NOT NULL AND block_hash IS NOT NULL";

/** Reads the ledger of `schema` through `query`. */
export function ledgerSource(params: { query: LedgerQuery; schema: string; pageSize?: number }): LedgerSource {
  const table = `${quote(params.schema)}.transactions`;
  const pageSize = params.pageSize ?? 1_000;
  const columns = "seq::text AS seq, hash, kind, status, block_number::text AS block_number, block_hash";
  return {
    read: async (block) => {
      const out: LedgerMined[] = [];
      let after = "0";
      for (;;) {
        let rows: Record<string, unknown>[];
        try {
          rows = await params.query(
            `SELECT ${columns} FROM ${table} WHERE ${COVERED} AND block_number <= $1 AND seq > $2 ORDER BY seq LIMIT $3`,
            [block.toString(), after, pageSize],
          );
        } catch (cause) {
          throw new ReconcileError(`the transaction ledger (${table}) cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
        }
        out.push(...rows.map(toMined));
        if (rows.length < pageSize) return out;
        after = String(rows[rows.length - 1]!.seq);
      }
    },
    reread: async (hashes) => {
      if (hashes.length === 0) return [];
      const rows = await params.query(`SELECT ${columns} FROM ${table} WHERE ${COVERED} AND hash = ANY($1)`, [hashes.map((h) => h.toLowerCase())]);
      return rows.map(toMined);
    },
  };
}

/** Whether the ledger's tables exist in `schema` (the CLI on a database whose API never ran the ledger). */
export async function ledgerTablesExist(params: { query: LedgerQuery; schema: string }): Promise<boolean> {
  const rows = await params.query("SELECT to_regclass($1) IS NOT NULL AS present", [`${quote(params.schema)}.transactions`]);
  return rows[0]?.present === true;
}
