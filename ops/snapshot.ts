/**
 * How ops/ reads the database: plain SQL text in, rows out, inside one consistent read-only
 * snapshot on PostgreSQL or PGlite.
 */
export type Row = Record<string, unknown>;
/** Runs one SQL statement and returns its rows. The reconciler inlines only values it has
 * validated (decimal ids, hex addresses), so no parameters are needed. */
export type Query = (text: string) => Promise<Row[]>;
/** Runs `fn` against one consistent, read-only snapshot of the database. */
export type Snapshot = <T>(fn: (query: Query) => Promise<T>) => Promise<T>;

/** Something that runs SQL text and returns rows: a pg client, a PGlite instance or transaction. */
export type SqlClient = { query: (text: string) => Promise<{ rows: unknown[] }> };

/** A snapshot over a PostgreSQL connection: one REPEATABLE READ, READ ONLY transaction, so the
 * checkpoint and every page agree even while the indexer commits new blocks. */
export function postgresSnapshot(connect: () => Promise<SqlClient & { release?: () => void }>): Snapshot {
  return async (fn) => {
    const client = await connect();
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        const result = await fn(async (sql) => (await client.query(sql)).rows as Row[]);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    } finally {
      client.release?.();
    }
  };
}

/** A snapshot over PGlite: one transaction on its single connection (the indexer's writes wait
 * for it; PGlite is for development). */
export function pgliteSnapshot(instance: { transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => Promise<T> }): Snapshot {
  return (fn) => instance.transaction((tx) => fn(async (sql) => (await tx.query(sql)).rows as Row[]));
}
