/**
 * SQL over HTTP (`/sql/db` and `/sql/live`, the routes `@ponder/client` speaks).
 *
 * The read-only promise rests on layers, none trusted alone (README, "Security"):
 * 1. ./sql-policy.ts judges every query afresh, uncached, on its whole parse tree, before
 *    anything else sees it: exactly one plain read of the index's tables, or a 4xx that names
 *    what was refused.
 * 2. Ponder's own validation still runs for `/sql/live`, with its verdict caches keyed by the
 *    full sha256 of the text (patches/ponder+0.16.10.patch; its 40-bit keys let a write borrow
 *    a harmless SELECT's verdict). `/sql/db` does not go through Ponder at all.
 * 3. ./sql-exec.ts runs each query in a read-only transaction over the extended protocol (one
 *    statement, never several), on both databases; `/sql/live` uses it too, through the
 *    `execute` option the patch adds to Ponder's `client()`.
 * 4. On PostgreSQL the queries run as the role of `SQL_DATABASE_URL` when set: one with
 *    `SELECT` on the served schema alone, so even a write that got past every layer above is
 *    refused by the database's own privileges. `checkReadOnlyRole` verifies that role at start.
 *
 * A query gets `timeoutMs`: on PostgreSQL the database stops it (`statement_timeout`) and
 * nothing retries it. PGlite cannot stop a running query (it runs on the API's own thread), so
 * there the 504 comes on time but the query runs to its end (README, "SQL for analysts").
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import superjson from "superjson";
import { errorMessage } from "../../common/errors";
import { SqlExecutionError, type SqlExecutor } from "./sql-exec";
import { checkQueryShape, judgeSql } from "./sql-policy";

export type SqlOverHttpOptions = {
  /** The index's own tables (and `_ponder_checkpoint`). */
  tables: ReadonlySet<string>;
  execute: SqlExecutor;
  timeoutMs: number;
  /** Resolves when the database role was checked; rejects with the reason SQL is not served. */
  ready?: () => Promise<void>;
};

const text = (c: Context, message: string, status: number) => c.text(message, status as 400);

/** Serves `/sql/db` itself and admits to `/sql/live` (Ponder's, which streams) only what the
 * policy admits. */
export function sqlOverHttp(options: SqlOverHttpOptions) {
  return createMiddleware(async (c, next) => {
    if (c.req.path !== "/sql/db" && c.req.path !== "/sql/live") return text(c, "Not found. SQL over HTTP is served at /sql/db and /sql/live.", 404);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      c.header("Allow", "GET");
      return text(c, `${c.req.method} is not allowed here; @ponder/client sends GET ${c.req.path}?sql=...`, 405);
    }
    const raw = c.req.query("sql");
    if (raw === undefined) return text(c, 'Missing "sql" query parameter.', 400);
    let parsed: unknown;
    try {
      parsed = superjson.parse(raw);
    } catch {
      return text(c, 'The "sql" parameter is not a query from @ponder/client.', 400);
    }
    const query = checkQueryShape(parsed);
    if ("ok" in query) return text(c, query.message, query.status);
    const verdict = await judgeSql(query.sql, options.tables);
    if (!verdict.ok) return text(c, verdict.message, verdict.status);

    try {
      await options.ready?.();
    } catch (error) {
      return text(c, errorMessage(error), 503);
    }

    // Live queries stream from Ponder's middleware, which runs them through options.execute;
    // a failure of its first run comes back here as the context's error.
    if (c.req.path === "/sql/live") {
      await next();
      if (c.error instanceof SqlExecutionError) c.res = new Response(c.error.message, { status: c.error.status, headers: { "content-type": "text/plain; charset=UTF-8" } });
      return;
    }

    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), options.timeoutMs)));
    try {
      const outcome = await Promise.race([options.execute(query), late]);
      if (outcome === "late") {
        return text(
          c,
          `The query ran longer than ${options.timeoutMs / 1000} s (SQL_TIMEOUT_MS) and was stopped. Narrow it: filter with WHERE, join on keys rather than across whole tables, aggregate less.`,
          504,
        );
      }
      return c.body(JSON.stringify(outcome, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)), 200, {
        "content-type": "application/json",
      });
    } catch (error) {
      if (error instanceof SqlExecutionError) return text(c, error.message, error.status);
      console.warn(`SQL over HTTP: ${errorMessage(error)}`);
      return text(c, "The query could not be run (internal error).", 500);
    } finally {
      clearTimeout(timer);
    }
  });
}
