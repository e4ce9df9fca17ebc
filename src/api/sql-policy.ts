/**
 * What SQL over HTTP admits: exactly one plain read of the index's own tables.
 *
 * This is the first of the layers behind the read-only promise (README, "Security"); it does
 * not trust Ponder's own validation, and it keeps no verdict cache: every query is parsed
 * afresh by libpg_query (the PostgreSQL parser, the same one Ponder uses) and judged on its
 * whole tree. Admitted:
 *
 * - a single `SELECT` statement, with set operations (`UNION`, `INTERSECT`, `EXCEPT`),
 *   subqueries and non-recursive CTEs whose bodies are themselves `SELECT`s;
 * - relations that are tables of the index (or `_ponder_checkpoint`, for progress) or CTEs
 *   the query defines, never schema-qualified;
 * - calls to the functions in `ALLOWED_FUNCTIONS` (pure: aggregates, arithmetic, text, JSON,
 *   window functions), never schema-qualified.
 *
 * Refused, each with a sentence naming what was refused: any other statement anywhere in the
 * tree (a data-modifying CTE, `COMMENT`, `SET`, `COMMIT`, DDL), `SELECT ... INTO`, locking
 * clauses (`FOR UPDATE` and friends), several statements, recursive CTEs, other relations and
 * functions, and over-long text or parameter lists.
 */
import Parser from "pg-query-emscripten";

/** Longest SQL text admitted, in characters (Ponder's own limit too). */
export const MAX_SQL_LENGTH = 5_000;
/** Most bound parameters admitted. */
export const MAX_SQL_PARAMS = 100;
/** Longest text of one bound parameter. */
export const MAX_SQL_PARAM_LENGTH = 1_000;

/** Functions a query may call: pure ones only, none that reads settings, sleeps, locks, writes
 * or runs SQL of its own. */
const ALLOWED_FUNCTIONS = new Set([
  // aggregates
  "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "string_agg", "array_agg",
  "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
  "percentile_cont", "percentile_disc", "mode",
  // window functions
  "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
  "first_value", "last_value", "nth_value",
  // arithmetic
  "abs", "cbrt", "ceil", "ceiling", "degrees", "div", "exp", "floor", "ln", "log", "mod", "pi",
  "power", "radians", "round", "sign", "sqrt", "trunc", "width_bucket", "greatest", "least",
  // text
  "lower", "upper", "length", "char_length", "trim", "btrim", "ltrim", "rtrim", "replace",
  "substring", "substr", "left", "right", "concat", "concat_ws", "lpad", "rpad", "position",
  "strpos", "starts_with", "split_part", "reverse",
  // JSON
  "json_agg", "jsonb_agg", "json_object", "json_array", "json_object_agg", "jsonb_object_agg",
  "json_build_array", "jsonb_build_array", "json_build_object", "jsonb_build_object",
  // time
  "to_timestamp", "date_trunc", "date_part", "extract", "make_date", "now",
]);

const INTERNAL = /^_ponder_meta$|^_reorg__/;

export type SqlQuery = { sql: string; params: unknown[] };

export type SqlVerdict =
  | { ok: true; relations: string[] }
  | { ok: false; status: 400 | 403 | 413; message: string };

type ParseResult = { parse_tree: { stmts: { stmt?: Record<string, unknown> }[] }; error: { message?: string } | string | null };

let parser: ReturnType<typeof Parser> | undefined;

const refuse = (message: string, status: 400 | 403 | 413 = 400): Exclude<SqlVerdict, { ok: true }> => ({ ok: false, status, message });

/** Text and parameter bounds, checked before anything is parsed. */
export function checkQueryShape(query: unknown): Exclude<SqlVerdict, { ok: true }> | SqlQuery {
  if (typeof query !== "object" || query === null) return refuse('The "sql" parameter is not a query from @ponder/client.');
  const { sql, params = [] } = query as { sql?: unknown; params?: unknown };
  if (typeof sql !== "string") return refuse('The "sql" parameter has no SQL text.');
  if (sql.length > MAX_SQL_LENGTH) return refuse(`The query is ${sql.length} characters long; the limit is ${MAX_SQL_LENGTH}.`, 413);
  if (!Array.isArray(params)) return refuse("The query's params are not a list.");
  if (params.length > MAX_SQL_PARAMS) return refuse(`The query has ${params.length} parameters; the limit is ${MAX_SQL_PARAMS}.`, 413);
  for (const [i, param] of params.entries()) {
    const ok = param === null || ["string", "number", "boolean", "bigint"].includes(typeof param);
    if (!ok) return refuse(`Parameter $${i + 1} is not a string, number, boolean or null.`);
    if (String(param).length > MAX_SQL_PARAM_LENGTH) return refuse(`Parameter $${i + 1} is longer than ${MAX_SQL_PARAM_LENGTH} characters.`, 413);
  }
  return { sql, params };
}

/** Judges one SQL text against the policy above. `tables` are the index's own table names. */
export async function judgeSql(sql: string, tables: ReadonlySet<string>): Promise<SqlVerdict> {
  if (sql.length > MAX_SQL_LENGTH) return refuse(`The query is ${sql.length} characters long; the limit is ${MAX_SQL_LENGTH}.`, 413);
  parser ??= Parser();
  const result = (await parser).parse(sql) as ParseResult;
  if (result.error !== null) {
    const message = typeof result.error === "string" ? result.error : (result.error.message ?? "syntax error");
    return refuse(`The query does not parse: ${message}.`);
  }
  const stmts = result.parse_tree.stmts;
  if (stmts.length === 0 || !stmts[0]!.stmt) return refuse("The query is empty.");
  if (stmts.length > 1) return refuse(`The query holds ${stmts.length} statements; send exactly one SELECT.`);
  const root = stmts[0]!.stmt;
  const rootType = Object.keys(root)[0]!;
  if (rootType !== "SelectStmt") return refuse(`${statementName(rootType)} is not a read; only a single SELECT is allowed.`);

  const ctes = new Set<string>();
  collectCtes(root, ctes);
  const relations = new Set<string>();
  const problem = walk(root, { tables, ctes, relations });
  if (problem) return problem;
  return { ok: true, relations: [...relations] };
}

/** "DeleteStmt" -> "DELETE"; "VariableSetStmt" -> "SET"; others by their parser name. */
function statementName(type: string): string {
  const names: Record<string, string> = {
    InsertStmt: "INSERT", UpdateStmt: "UPDATE", DeleteStmt: "DELETE", MergeStmt: "MERGE", CommentStmt: "COMMENT",
    VariableSetStmt: "SET", VariableShowStmt: "SHOW", TransactionStmt: "A transaction statement (BEGIN, COMMIT, ROLLBACK)",
    TruncateStmt: "TRUNCATE", CreateStmt: "CREATE TABLE", DropStmt: "DROP", CopyStmt: "COPY", ExplainStmt: "EXPLAIN",
    DoStmt: "DO", CallStmt: "CALL", LockStmt: "LOCK",
  };
  return names[type] ?? type.replace(/Stmt$/, " statement");
}

function collectCtes(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) node.forEach((child) => collectCtes(child, into));
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "CommonTableExpr") {
        const name = (value as { ctename?: string }).ctename;
        if (name) into.add(name);
      }
      collectCtes(value, into);
    }
  }
}

type Scope = { tables: ReadonlySet<string>; ctes: ReadonlySet<string>; relations: Set<string> };

function walk(node: unknown, scope: Scope): SqlVerdict | undefined {
  if (Array.isArray(node)) {
    for (const child of node) {
      const problem = walk(child, scope);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!node || typeof node !== "object") return undefined;
  for (const [key, value] of Object.entries(node)) {
    const problem = judgeNode(key, value, scope) ?? walk(value, scope);
    if (problem) return problem;
  }
  return undefined;
}

function judgeNode(key: string, value: unknown, scope: Scope): SqlVerdict | undefined {
  if (/^[A-Z]\w*Stmt$/.test(key) && key !== "SelectStmt") {
    return refuse(`${statementName(key)} is not a read (found inside the query); only a single SELECT is allowed.`);
  }
  if (key === "intoClause") return refuse("SELECT ... INTO writes a table; it is not allowed.");
  if (key === "lockingClause") return refuse("Locking clauses (FOR UPDATE, FOR SHARE, ...) are not allowed in a read.");
  if (key === "WithClause" || key === "withClause") {
    if ((value as { recursive?: boolean }).recursive) return refuse("Recursive CTEs (WITH RECURSIVE) are not allowed.");
  }
  if (key === "CommonTableExpr") {
    const cte = value as { ctematerialized?: string; ctequery?: Record<string, unknown> };
    const body = cte.ctequery ? Object.keys(cte.ctequery)[0] : undefined;
    if (body !== "SelectStmt") return refuse(`A CTE whose body is ${statementName(body ?? "empty")} is not a read; CTEs must be SELECTs.`);
  }
  if (key === "RangeVar") {
    const range = value as { relname?: string; schemaname?: string; catalogname?: string };
    const name = range.relname ?? "";
    if (range.schemaname || range.catalogname) {
      return refuse(`Schema-qualified names (${[range.catalogname, range.schemaname, name].filter(Boolean).join(".")}) are not allowed; name the table alone.`);
    }
    if (INTERNAL.test(name)) {
      return refuse(`${name} is internal to the indexer and not queryable. Query the project's tables: ${[...scope.tables].join(", ")}.`, 403);
    }
    if (!scope.tables.has(name) && !scope.ctes.has(name)) {
      return refuse(`"${name}" is not a table of this index. Query: ${[...scope.tables].join(", ")}.`);
    }
    if (scope.tables.has(name)) scope.relations.add(name);
  }
  if (key === "FuncCall") {
    const names = ((value as { funcname?: { String?: { sval?: string } }[] }).funcname ?? []).map((part) => part.String?.sval ?? "?");
    // EXTRACT(...) parses as pg_catalog.extract; nothing else may be qualified.
    const qualifiedExtract = names.length === 2 && names[0] === "pg_catalog" && names[1] === "extract";
    const name = qualifiedExtract ? "extract" : names.length === 1 ? names[0]! : names.join(".");
    if (!ALLOWED_FUNCTIONS.has(name)) return refuse(`The function ${name}() is not allowed in SQL over HTTP.`);
  }
  return undefined;
}
