/**
 * The project's six tables as another indexer stores them: reading them out of PostgreSQL in
 * the ground truth's shapes (test/_support/truth.ts), and comparing two sets keyed by each
 * table's natural key. A peer's numbers count only when its tables equal the chain's.
 */
import type pg from "pg";
import type { Tables } from "../../test/_support/truth";

export type TableName = keyof Tables;

/** How an indexer names the tables and columns of the schema's fields. */
export type TableNaming = {
  /** e.g. `chama_day` (SQD, Ponder) or `"ChamaDay"` (Envio), schema-qualified if needed. */
  table: (entity: "chama" | "contribution" | "payout" | "member" | "account" | "chamaDay") => string;
  /** e.g. `total_paid_out` (SQD, Ponder) or `"totalPaidOut"` (Envio). */
  column: (field: string) => string;
};

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Snake-case tables and columns (SQD's TypeORM naming, Ponder's), optionally in a schema. */
export const snakeCaseNaming = (schema?: string): TableNaming => ({
  table: (entity) => (schema ? `"${schema}".${snake(entity)}` : snake(entity)),
  column: snake,
});

/** Envio's naming: one table per entity named as in schema.graphql, columns as the fields. */
export const entityNaming = (schema?: string): TableNaming => ({
  table: (entity) => {
    const name = `"${entity[0]!.toUpperCase()}${entity.slice(1)}"`;
    return schema ? `"${schema}".${name}` : name;
  },
  column: (field) => `"${field}"`,
});

/** Each output table: its entity, and its fields as [name in Tables, source field, type].
 * Decimal fields are read as text so no amount passes through a JavaScript number. */
const SOURCES: Record<TableName, { entity: Parameters<TableNaming["table"]>[0]; fields: [string, string, "text" | "int"][] }> = {
  chamas: {
    entity: "chama",
    fields: [
      ["id", "id", "text"], ["name", "name", "text"], ["creator", "creator", "text"], ["contributionAmount", "contributionAmount", "text"],
      ["totalContributed", "totalContributed", "text"], ["totalPaidOut", "totalPaidOut", "text"], ["balance", "balance", "text"],
      ["contributionCount", "contributionCount", "int"], ["payoutCount", "payoutCount", "int"], ["memberCount", "memberCount", "int"],
      ["createdAtBlock", "createdAtBlock", "text"], ["createdAtTimestamp", "createdAtTimestamp", "text"], ["createdTxHash", "createdTxHash", "text"],
    ],
  },
  contributions: { entity: "contribution", fields: eventFields("contributor") },
  payouts: { entity: "payout", fields: eventFields("recipient") },
  members: {
    entity: "member",
    fields: [
      ["chamaId", "chamaId", "text"], ["address", "address", "text"], ["totalContributed", "totalContributed", "text"], ["totalReceived", "totalReceived", "text"],
      ["contributionCount", "contributionCount", "int"], ["payoutCount", "payoutCount", "int"],
      ["firstContributionAt", "firstContributionAt", "text"], ["lastContributionAt", "lastContributionAt", "text"],
    ],
  },
  accounts: {
    entity: "account",
    fields: [
      ["id", "id", "text"], ["totalContributed", "totalContributed", "text"], ["totalReceived", "totalReceived", "text"],
      ["contributionCount", "contributionCount", "int"], ["payoutCount", "payoutCount", "int"], ["chamaCount", "chamaCount", "int"],
    ],
  },
  chamaDays: {
    entity: "chamaDay",
    fields: [
      ["chamaId", "chamaId", "text"], ["day", "day", "int"], ["contributed", "contributed", "text"], ["paidOut", "paidOut", "text"],
      ["contributionCount", "contributionCount", "int"], ["payoutCount", "payoutCount", "int"],
    ],
  },
};

function eventFields(who: "contributor" | "recipient"): [string, string, "text" | "int"][] {
  return [
    ["chamaId", "chamaId", "text"], ["address", who, "text"], ["amount", "amount", "text"], ["timestamp", "timestamp", "text"],
    ["blockNumber", "blockNumber", "text"], ["transactionHash", "transactionHash", "text"], ["logIndex", "logIndex", "int"],
  ];
}

/** The SELECT that reads one table in the ground truth's shape. */
export function selectTable(naming: TableNaming, table: TableName): string {
  const { entity, fields } = SOURCES[table];
  const columns = fields.map(([name, field, type]) => `${naming.column(field)}${type === "text" ? "::text" : "::int"} AS "${name}"`);
  return `SELECT ${columns.join(", ")} FROM ${naming.table(entity)}`;
}

/** Reads all six tables from a database an indexer wrote. */
export async function readTables(params: { client: pg.Client; naming: TableNaming }): Promise<Tables> {
  const out: Partial<Record<TableName, unknown[]>> = {};
  for (const table of Object.keys(SOURCES) as TableName[]) {
    out[table] = (await params.client.query(selectTable(params.naming, table))).rows;
  }
  return out as Tables;
}

/** Row counts of the three raw-event tables: the end of a backfill is when they are complete. */
export function countsQuery(naming: TableNaming): string {
  return `SELECT (SELECT count(*) FROM ${naming.table("chama")})::int AS chamas, (SELECT count(*) FROM ${naming.table("contribution")})::int AS contributions, (SELECT count(*) FROM ${naming.table("payout")})::int AS payouts`;
}

/** The natural key of each table's rows. */
const KEYS: { [T in TableName]: (row: Tables[T][number]) => string } = {
  chamas: (r) => r.id,
  contributions: (r) => `${r.blockNumber}:${r.logIndex}`,
  payouts: (r) => `${r.blockNumber}:${r.logIndex}`,
  members: (r) => `${r.chamaId}:${r.address}`,
  accounts: (r) => r.id,
  chamaDays: (r) => `${r.chamaId}:${r.day}`,
};

export type TableDifference = {
  table: TableName;
  /** Rows the expected set has and the actual one lacks. */
  missing: number;
  /** Rows the actual set has beyond the expected ones (duplicate keys included). */
  extra: number;
  /** Rows under the same key with at least one field different. */
  mismatched: number;
  /** A few of them, in words. */
  examples: string[];
};

/** Compares two sets of tables row by row under each table's key; returns one entry per table
 * that differs (none when they are equal). */
export function compareTables(params: { expected: Tables; actual: Tables; maxExamples?: number }): TableDifference[] {
  const { expected, actual, maxExamples = 5 } = params;
  const differences: TableDifference[] = [];
  for (const table of Object.keys(KEYS) as TableName[]) {
    const key = KEYS[table] as (row: object) => string;
    const diff: TableDifference = { table, missing: 0, extra: 0, mismatched: 0, examples: [] };
    const example = (line: string) => {
      if (diff.examples.length < maxExamples) diff.examples.push(line);
    };
    const actualRows = new Map<string, Record<string, unknown>>();
    for (const row of actual[table] as Record<string, unknown>[]) {
      const k = key(row);
      if (actualRows.has(k)) {
        diff.extra++;
        example(`${table} ${k}: more than one row`);
      } else actualRows.set(k, row);
    }
    for (const row of expected[table] as Record<string, unknown>[]) {
      const k = key(row);
      const got = actualRows.get(k);
      if (!got) {
        diff.missing++;
        example(`${table} ${k}: missing`);
        continue;
      }
      actualRows.delete(k);
      const fields = Object.keys(row).filter((field) => row[field] !== got[field]);
      if (fields.length > 0) {
        diff.mismatched++;
        example(`${table} ${k}: ${fields.map((f) => `${f} ${String(got[f])}, expected ${String(row[f])}`).join("; ")}`);
      }
    }
    for (const k of actualRows.keys()) {
      diff.extra++;
      example(`${table} ${k}: not on the chain`);
    }
    if (diff.missing + diff.extra + diff.mismatched > 0) differences.push(diff);
  }
  return differences;
}

/** One line per differing table, for an error message. */
export function describeDifferences(differences: TableDifference[]): string {
  return differences
    .map((d) => `${d.table}: ${d.missing} missing, ${d.extra} extra, ${d.mismatched} different (${d.examples.join(" | ")})`)
    .join("\n");
}
