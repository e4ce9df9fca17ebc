/**
 * A guard in front of Ponder's SQL-over-HTTP middleware (`/sql/*`). Ponder already refuses
 * writes, DDL, multiple statements, schema-qualified names, system tables and most functions.
 * On top of that:
 *
 * - Ponder's own bookkeeping tables (`_ponder_meta`, `_reorg__*`) are refused: they are not the
 *   project's data.
 * - A query gets `timeoutMs` to answer, then a 504 naming the limit. Ponder's read-only pool on
 *   PostgreSQL stops a statement after 30 s, but Ponder then retries the same query up to nine
 *   more times (about six minutes of a read-only connection per runaway query). So on
 *   PostgreSQL a query the guard gave up on is also cancelled in the database, every retry of it
 *   included, by `runawayCanceller`. PGlite runs queries on the API's own thread and cannot
 *   cancel one: there the limit cannot apply (README, "SQL for analysts").
 */
import { createMiddleware } from "hono/factory";
import pg from "pg";
import Parser from "pg-query-emscripten";
import superjson from "superjson";

const isInternal = (relation: string) => relation === "_ponder_meta" || relation.startsWith("_reorg__");

type Query = { sql: string; params: unknown[] };

type ParseTree = { parse_tree: { stmts: { stmt?: Record<string, unknown> }[] }; error: string | null };

let parser: ReturnType<typeof Parser> | undefined;

/** Parses with libpg_query (the parser Ponder's own validation uses). Returns the statement
 * type and every relation name, or undefined when it is not exactly one statement. */
async function inspect(text: string): Promise<{ type: string; relations: string[] } | undefined> {
  parser ??= Parser();
  const result = (await parser).parse(text) as ParseTree;
  if (result.error !== null || result.parse_tree.stmts.length !== 1) return undefined;
  const stmt = result.parse_tree.stmts[0]!.stmt;
  if (!stmt) return undefined;
  const relations: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      const relname = (node as { RangeVar?: { relname?: string } }).RangeVar?.relname;
      if (relname) relations.push(relname.toLowerCase());
      Object.values(node).forEach(walk);
    }
  };
  walk(stmt);
  return { type: Object.keys(stmt)[0]!, relations };
}

/** pg_stat_activity keeps the first 1 kB of a query's text (track_activity_query_size): compare
 * this many characters. */
const PREFIX = 500;

/** Cancels, in PostgreSQL, a query the API gave up on, and each retry Ponder makes of it. */
export type RunawayCanceller = (sql: string) => void;

/**
 * Watches `pg_stat_activity` for `windowMs` after a query timed out and cancels every running
 * copy of it in the served schema's read-only pool (Ponder retries a failed read with backoff
 * for about a minute). One connection of its own, opened only while something is being watched.
 */
export function runawayCanceller(params: { databaseUrl: string; schema: string; windowMs?: number; intervalMs?: number }): RunawayCanceller {
  const windowMs = params.windowMs ?? 120_000;
  const intervalMs = params.intervalMs ?? 200;
  const watched = new Map<string, number>();
  let running = false;

  const watch = async () => {
    running = true;
    const client = new pg.Client({ connectionString: params.databaseUrl, application_name: `${params.schema}_sql_guard` });
    try {
      await client.connect();
      while (watched.size > 0) {
        const now = Date.now();
        for (const [sql, until] of watched) if (until < now) watched.delete(sql);
        if (watched.size > 0) {
          await client.query(
            `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1 AND state = 'active' AND left(query, ${PREFIX}) = ANY($2::text[]) AND pid <> pg_backend_pid()`,
            [`${params.schema}_readonly`, [...watched.keys()].map((sql) => sql.slice(0, PREFIX))],
          );
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    } catch (error) {
      console.warn(`SQL guard: could not cancel a runaway query: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      running = false;
      await client.end().catch(() => {});
    }
  };

  return (sql) => {
    watched.set(sql, Date.now() + windowMs);
    if (!running) void watch();
  };
}

/** Refuses SQL-over-HTTP queries that read the indexer's internal tables, and answers 504 for
 * one that runs longer than `timeoutMs` (cancelling it through `cancel` when given). */
export function sqlGuard(options: { timeoutMs: number; cancel?: RunawayCanceller }) {
  return createMiddleware(async (c, next) => {
    if (c.req.path !== "/sql/db" && c.req.path !== "/sql/live") return next();
    const raw = c.req.query("sql");
    if (raw === undefined) return next();
    let query: Query;
    try {
      query = superjson.parse<Query>(raw);
    } catch {
      return c.text('The "sql" parameter is not a query from @ponder/client.', 400);
    }
    if (typeof query?.sql !== "string") return c.text('The "sql" parameter has no SQL text.', 400);

    const statement = await inspect(query.sql);
    // Anything but a single SELECT goes on to Ponder's validation, which refuses it with its
    // own message.
    if (statement?.type !== "SelectStmt") return next();

    const internal = statement.relations.find(isInternal);
    if (internal) {
      return c.text(
        `${internal} is internal to the indexer and not queryable. Query the project's tables: chama, contribution, payout, member, account, chama_day (and _ponder_checkpoint for progress).`,
        403,
      );
    }

    // Live queries stream; only one-shot queries get a deadline.
    if (c.req.path !== "/sql/db") return next();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), options.timeoutMs)));
    const outcome = await Promise.race([next().then(() => "done" as const), late]);
    clearTimeout(timer);
    if (outcome === "done") return;
    options.cancel?.(query.sql);
    const seconds = options.timeoutMs / 1000;
    return c.text(
      `The query ran longer than ${seconds} s (SQL_TIMEOUT_MS) and was stopped. Narrow it: filter with WHERE, join on keys rather than across whole tables, aggregate less.`,
      504,
    );
  });
}
