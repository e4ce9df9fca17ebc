/**
 * A guard in front of Ponder's SQL-over-HTTP middleware (`/sql/*`). Ponder already refuses
 * writes, DDL, multiple statements, schema-qualified names, system tables and most functions,
 * and on PostgreSQL its read-only pool stops any query after 30 s. On top of that, Ponder's own
 * bookkeeping tables (`_ponder_meta`, `_reorg__*`) are refused: they are not the project's data.
 */
import { createMiddleware } from "hono/factory";
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

/** Refuses SQL-over-HTTP queries that read the indexer's internal tables. */
export function sqlGuard() {
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

    return next();
  });
}
