/**
 * Runs the SQL-over-HTTP queries (`/sql/db` and, through Ponder's patched `client()`
 * middleware, `/sql/live`) so that a write cannot succeed even if the policy in
 * ./sql-policy.ts were wrong:
 *
 * - every query runs inside a transaction that is read-only from its first statement;
 * - it is always sent with the extended query protocol (parse, bind, execute), which carries
 *   exactly one statement: there is no path on which `COMMIT; BEGIN READ WRITE; ...` runs;
 * - on PostgreSQL, it runs on a pool of its own, as the role `SQL_DATABASE_URL` logs in as
 *   when that is set (a role with `SELECT` on the served schema alone: README, "Security"),
 *   with `statement_timeout`, so the database itself stops a runaway query and nothing retries
 *   it;
 * - on PGlite, it runs on Ponder's own instance (PGlite is one connection) in a read-only
 *   transaction.
 */
import pg from "pg";
import { JengaError, type JengaErrorOptions, errorMessage } from "../../common/errors";
import { estimateRowVisits, formatCount, planOf } from "./sql-budget";

export type SqlRows = { rows: Record<string, unknown>[] };

/** Runs one admitted query and returns its rows. */
export type SqlExecutor = ((query: { sql: string; params: unknown[] }) => Promise<SqlRows>) & { close?: () => Promise<void> };

export type SqlExecutionErrorOptions = JengaErrorOptions & {
  status: 400 | 403 | 500 | 503 | 504;
  /** "permission": the database's privileges refused it (a grant may be missing). */
  reason?: "permission";
};

/** A failure the caller can act on, with the HTTP status it deserves. A 4xx is the analyst's
 * to fix from the message; a 5xx is not. */
export class SqlExecutionError extends JengaError {
  override name = "SqlExecutionError";
  override readonly expected: boolean;
  readonly status: SqlExecutionErrorOptions["status"];
  readonly reason: SqlExecutionErrorOptions["reason"];

  constructor(message: string, options: SqlExecutionErrorOptions) {
    super(message, options);
    this.status = options.status;
    this.reason = options.reason;
    this.expected = options.status < 500;
  }
}

/** SQL over HTTP is off until the operator fixes its database role as the message says. */
export class SqlRoleError extends JengaError {
  override name = "SqlRoleError";
  override readonly expected = true;
}

// Dates, times and intervals stay as PostgreSQL prints them (as Ponder's own SQL path does):
// the client decodes them.
const TEXT_TYPES = [1082, 1114, 1184, 1186, 1182, 1115, 1185, 1187, 1231];
const identity = (value: string) => value;

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** SQLSTATEs whose message is about the query itself (syntax, unknown column, bad cast,
 * division by zero): shown to the analyst as a 400. Everything else is masked. */
const USER_ERROR_CLASSES = ["22", "42"];

/** Turns a database error into a message that is safe to show. */
export function describeSqlError(error: unknown, timeoutMs: number): SqlExecutionError {
  const code = (error as { code?: unknown })?.code;
  const message = errorMessage(error);
  if (code === "57014") {
    return new SqlExecutionError(
      `The query ran longer than ${timeoutMs / 1000} s (SQL_TIMEOUT_MS) and was stopped by the database. Narrow it: filter with WHERE, join on keys rather than across whole tables, aggregate less.`,
      { status: 504, cause: error },
    );
  }
  if (/multiple commands|cannot insert multiple/i.test(message)) {
    return new SqlExecutionError("The query holds several statements; send exactly one SELECT.", { status: 400, cause: error });
  }
  if (code === "25006") return new SqlExecutionError("The query tried to change data; SQL over HTTP is read-only.", { status: 403, cause: error });
  if (code === "42501") {
    return new SqlExecutionError("SQL over HTTP's read-only role is not allowed to do that; it may only read the index's tables.", { status: 403, reason: "permission", cause: error });
  }
  if (typeof code === "string" && USER_ERROR_CLASSES.includes(code.slice(0, 2))) {
    return new SqlExecutionError(`The query failed: ${message}.`, { status: 400, cause: error });
  }
  return new SqlExecutionError("The query could not be run (internal error). Try again; if it persists, the operator's logs say why.", { status: 500, cause: error });
}

/** PGlite: Ponder's single instance, one read-only transaction per query, and a work budget
 * checked on the plan before the query runs (./sql-budget.ts: PGlite cannot stop a query). */
export function pgliteExecutor(params: {
  instance: {
    query: (sql: string) => Promise<unknown>;
    transaction: <T>(fn: (tx: { query: (sql: string, params?: unknown[], options?: object) => Promise<{ rows: unknown[] }> }) => Promise<T>) => Promise<T | undefined>;
  };
  schema: string;
  timeoutMs: number;
  /** Most row visits a plan may estimate (SQL_PGLITE_MAX_ROWS); 0 turns the check off. */
  maxRowVisits: number;
  /** The tables to keep statistics fresh for (the planner's estimates need them). */
  tables: Iterable<string>;
  /** How often statistics are refreshed at most. */
  analyzeIntervalMs?: number;
}): SqlExecutor {
  const parsers = Object.fromEntries(TEXT_TYPES.map((oid) => [oid, identity]));
  const analyzeIntervalMs = params.analyzeIntervalMs ?? 30_000;
  const analyzeSql = `ANALYZE ${[...params.tables].map((table) => `${quoteIdent(params.schema)}.${quoteIdent(table)}`).join(", ")}`;
  let analyzedAt = Number.NEGATIVE_INFINITY;
  const analyze = async () => {
    if (params.maxRowVisits === 0 || Date.now() - analyzedAt < analyzeIntervalMs) return;
    analyzedAt = Date.now();
    // Ponder's tables are never analysed on PGlite (no autovacuum): without statistics the
    // planner's row counts are guesses. A view schema has nothing to analyse.
    await params.instance.query(analyzeSql).catch((error: unknown) => console.warn(`SQL over HTTP: ANALYZE failed: ${errorMessage(error)}`));
  };
  return async (query) => {
    try {
      await analyze();
      const result = await params.instance.transaction(async (tx) => {
        await tx.query("SET TRANSACTION READ ONLY");
        await tx.query(`SET LOCAL search_path = ${quoteIdent(params.schema)}`);
        if (params.maxRowVisits > 0) {
          const explained = await tx.query(`EXPLAIN (FORMAT JSON) ${query.sql}`, query.params).catch((error: unknown) => {
            // Text that parses alone but not after EXPLAIN is no query at all (COMMENT, SET, ...).
            if ((error as { code?: string }).code === "42601") throw new SqlExecutionError("Only a single SELECT can run here.", { status: 400, cause: error });
            throw error;
          });
          const visits = estimateRowVisits(planOf(explained.rows));
          if (visits > params.maxRowVisits) {
            throw new SqlExecutionError(
              `The query would visit about ${formatCount(visits)} rows; on the embedded database (PGlite) SQL over HTTP allows ${params.maxRowVisits.toLocaleString("en-US")} (SQL_PGLITE_MAX_ROWS), because PGlite cannot stop a query once it runs and the indexer waits for it. Narrow it (filter with WHERE, join on keys rather than across whole tables), or index into PostgreSQL (DATABASE_URL) for heavy analysis.`,
              { status: 400, details: { estimatedRowVisits: visits, maxRowVisits: params.maxRowVisits } },
            );
          }
        }
        const rows = await tx.query(query.sql, query.params, { rowMode: "object", parsers });
        return { rows: rows.rows as Record<string, unknown>[] };
      });
      if (!result) throw new Error("PGlite rolled the read back.");
      return result;
    } catch (error) {
      if (error instanceof SqlExecutionError) throw error;
      throw describeSqlError(error, params.timeoutMs);
    }
  };
}

/** PostgreSQL: a pool of its own, read-only sessions and transactions, a statement timeout,
 * and (with `readRole`) every query run as that role. */
export function postgresExecutor(params: {
  connectionString: string;
  schema: string;
  timeoutMs: number;
  max: number;
  applicationName: string;
  /** A role with SELECT alone, taken for each transaction (`SET LOCAL ROLE`). */
  readRole?: string;
}): SqlExecutor & { pool: pg.Pool } {
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      TEXT_TYPES.includes(oid) ? identity : (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format),
  };
  const pool = new pg.Pool({
    connectionString: params.connectionString,
    max: params.max,
    application_name: params.applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // Session defaults; each transaction sets its own again below.
    options: `-c default_transaction_read_only=on -c statement_timeout=${params.timeoutMs}`,
  });
  pool.on("error", (error) => console.warn(`SQL over HTTP: a pooled connection failed: ${error.message}`));

  const execute = async (query: { sql: string; params: unknown[] }): Promise<SqlRows> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      console.warn(`SQL over HTTP: cannot connect: ${errorMessage(error)}`);
      throw new SqlExecutionError("SQL over HTTP cannot reach its database right now. Try again shortly.", { status: 503, cause: error });
    }
    let broken = false;
    try {
      await client.query("BEGIN READ ONLY");
      if (params.readRole) await client.query(`SET LOCAL ROLE ${quoteIdent(params.readRole)}`);
      await client.query(`SET LOCAL statement_timeout = ${params.timeoutMs}`);
      await client.query(`SET LOCAL search_path = ${quoteIdent(params.schema)}`);
      const result = await client.query({ text: query.sql, values: query.params, types, queryMode: "extended" } as pg.QueryConfig);
      await client.query("COMMIT");
      return { rows: result.rows as Record<string, unknown>[] };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => (broken = true));
      throw describeSqlError(error, params.timeoutMs);
    } finally {
      client.release(broken);
    }
  };
  return Object.assign(execute, { pool, close: () => pool.end() });
}

/**
 * Makes `role` a reader of the served tables and nothing more, then proves it: the role may
 * not be a superuser or bypass row security, may not create in the schema, and holds no
 * privilege but SELECT on any relation of it. Creates the role (NOLOGIN) when it is missing and
 * the connection may, and grants it to the connecting user so `SET LOCAL ROLE` can take it.
 * Throws an error naming the fix when any of it fails.
 */
export async function prepareReadRole(params: { pool: pg.Pool; role: string; schema: string; tables: Iterable<string> }): Promise<void> {
  const { pool, role, schema } = params;
  const fix = `Create it as the README's "Security" section shows, or set SQL_DATABASE_URL to a read-only login role.`;
  const client = await pool.connect();
  try {
    await client.query("BEGIN READ WRITE");
    const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
    if (exists.rowCount === 0) {
      try {
        await client.query(`CREATE ROLE ${quoteIdent(role)} NOLOGIN`);
      } catch (error) {
        throw new SqlRoleError(
          `SQL over HTTP is off: the read-only role "${role}" (SQL_READ_ROLE) does not exist and cannot be created here (${errorMessage(error)}). ${fix}`,
          { cause: error },
        );
      }
    }
    const member = await client.query("SELECT pg_has_role(current_user, $1, 'MEMBER') AS member", [role]);
    if (!member.rows[0]?.member) await client.query(`GRANT ${quoteIdent(role)} TO CURRENT_USER`);
    await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`);
    for (const table of params.tables) {
      const found = await client.query("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2", [schema, table]);
      if (found.rowCount) await client.query(`GRANT SELECT ON ${quoteIdent(schema)}.${quoteIdent(table)} TO ${quoteIdent(role)}`);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    if (error instanceof SqlRoleError) throw error;
    throw new SqlRoleError(`SQL over HTTP is off: the read-only role "${role}" (SQL_READ_ROLE) could not be set up (${errorMessage(error)}). ${fix}`, { cause: error });
  } finally {
    client.release();
  }
  await assertReadOnlyRole({ pool, role, schema });
}

/** Throws unless `role` (default: the connecting user) can only read `schema`. */
export async function assertReadOnlyRole(params: { pool: pg.Pool; role?: string; schema: string }): Promise<void> {
  const result = await params.pool.query(
    `WITH r AS (SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = coalesce($1, current_user))
     SELECT r.rolname, r.rolsuper, r.rolbypassrls,
            has_schema_privilege(r.rolname, $2, 'CREATE') AS can_create,
            (SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                AND has_table_privilege(r.rolname, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')) AS writable
     FROM r`,
    [params.role ?? null, params.schema],
  );
  const row = result.rows[0] as { rolname: string; rolsuper: boolean; rolbypassrls: boolean; can_create: boolean; writable: string[] | null } | undefined;
  const name = params.role ?? "the SQL_DATABASE_URL user";
  if (!row) throw new SqlRoleError(`SQL over HTTP is off: the role ${name} does not exist.`);
  const problems = [
    row.rolsuper && "is a superuser",
    row.rolbypassrls && "bypasses row security",
    row.can_create && `may create objects in schema "${params.schema}"`,
    row.writable && row.writable.length > 0 && `may write ${row.writable.slice(0, 5).join(", ")}${row.writable.length > 5 ? ", ..." : ""}`,
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new SqlRoleError(
      `SQL over HTTP is off: its database role "${row.rolname}" ${problems.join(", ")}. Use a role with USAGE on the schema and SELECT on its tables alone (README, "Security").`,
    );
  }
}

type PonderDriver =
  | { dialect: "postgres" }
  | { dialect: "pglite"; instance: Parameters<typeof pgliteExecutor>[0]["instance"] };

/** Ponder's database driver, from the globals its runtime sets. */
function ponderDriver(): PonderDriver {
  const database = (globalThis as { PONDER_DATABASE?: { driver: PonderDriver } }).PONDER_DATABASE;
  if (!database) throw new Error("Ponder's database is not available: SQL over HTTP runs only inside `ponder start`, `ponder dev` or `ponder serve`.");
  return database.driver;
}

/** The executor for this process, and a check to run before the first query (and again after
 * the database refused a read, e.g. for a table created since). */
export function createSqlExecutor(params: {
  databaseUrl: string | undefined;
  /** A login role that can only read (SQL_DATABASE_URL); else `readRole` is taken per query. */
  sqlDatabaseUrl: string | undefined;
  readRole: string;
  schema: string;
  tables: ReadonlySet<string>;
  timeoutMs: number;
  poolSize: number;
  /** SQL_PGLITE_MAX_ROWS: the work budget of one query on PGlite. */
  pgliteMaxRows: number;
}): { execute: SqlExecutor; ready: () => Promise<void> } {
  const driver = ponderDriver();
  if (driver.dialect === "pglite" || !params.databaseUrl) {
    if (driver.dialect !== "pglite") throw new Error("Ponder runs on PostgreSQL but DATABASE_URL is not set.");
    const tables = [...params.tables].filter((table) => table !== "_ponder_checkpoint");
    const execute = pgliteExecutor({ instance: driver.instance, schema: params.schema, timeoutMs: params.timeoutMs, maxRowVisits: params.pgliteMaxRows, tables });
    return { execute, ready: async () => {} };
  }
  const viaLogin = params.sqlDatabaseUrl !== undefined;
  const executor = postgresExecutor({
    connectionString: params.sqlDatabaseUrl ?? params.databaseUrl,
    schema: params.schema,
    timeoutMs: params.timeoutMs,
    max: params.poolSize,
    applicationName: `${params.schema}_sql`,
    readRole: viaLogin ? undefined : params.readRole,
  });
  let checked: Promise<void> | undefined;
  const ready = () => {
    checked ??= (
      viaLogin
        ? assertReadOnlyRole({ pool: executor.pool, schema: params.schema })
        : prepareReadRole({ pool: executor.pool, role: params.readRole, schema: params.schema, tables: params.tables })
    ).catch((error: unknown) => {
      // Try again on a later request (the operator may fix the role meanwhile).
      checked = undefined;
      console.warn(errorMessage(error));
      throw error;
    });
    return checked;
  };
  const execute: SqlExecutor = async (query) => {
    await ready();
    try {
      return await executor(query);
    } catch (error) {
      // A relation created after the grants (a new views schema, a table of a new build): grant
      // again and retry once.
      if (error instanceof SqlExecutionError && error.reason === "permission" && !viaLogin) {
        checked = undefined;
        await ready();
        return executor(query);
      }
      throw error;
    }
  };
  execute.close = executor.close;
  return { execute, ready };
}
