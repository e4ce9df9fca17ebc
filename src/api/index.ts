import { db } from "ponder:api";
import schema from "ponder:schema";
import { getTableName, isTable } from "drizzle-orm";
import { Hono } from "hono";
import { client, graphql, sql } from "ponder";
import { loadApiEnv, loadEnv, loadLedgerEnv, loadSqlEnv } from "../../config/env";
import { createGraphiQL, introspectionFrom } from "./graphiql";
import { bodyCap, catchThrown, corsPolicy, graphqlGuard, internalError, loadShedder, sameOriginOnly } from "./limits";
import { createOpsApp, servedSchema } from "./ops";
import { responseCache } from "./response-cache";
import { createSqlExecutor } from "./sql-exec";
import { sqlOverHttp } from "./sql-guard";
import { createTransactionsApp } from "./transactions";

/** Limits that keep one GraphQL request from monopolising the server. The page size cap
 * (1000 rows) is Ponder's own. */
export const graphqlLimits = {
  maxOperationTokens: 2_000,
  maxOperationDepth: 8,
  maxOperationAliases: 20,
} as const;

const app = new Hono();

const env = loadEnv();
const apiEnv = loadApiEnv();
const indexSchema = servedSchema();
const ledgerEnv = loadLedgerEnv();

// Bounds on every request (./limits.ts): who may read answers from a browser, the body size,
// and how many GraphQL/SQL requests run at once. Ponder's /health, /ready, /status and
// /metrics are answered before this app and are never shed.
app.onError(internalError);
app.use("*", catchThrown());
app.use("*", corsPolicy({ origins: apiEnv.corsOrigins }));
app.use("*", bodyCap({ maxBytes: apiEnv.maxBodyBytes }));
app.use("/reconcile", sameOriginOnly());
const shedder = loadShedder({
  maxConcurrent: apiEnv.maxConcurrentRequests,
  maxQueued: apiEnv.maxQueuedRequests,
  queueTimeoutMs: apiEnv.queueTimeoutMs,
});
// /sql/live and /transactions/stream stream for as long as the client listens: they would hold
// a slot for good (the ledger bounds its streams with LEDGER_MAX_STREAMS).
for (const path of ["/graphql", "/", "/sql/db", "/transactions"]) app.use(path, shedder);
app.use("/transactions/*", (c, next) => (c.req.path === "/transactions/stream" ? next() : shedder(c, next)));

// The transaction ledger (ledger/): intake, reads, and the follower that settles every record.
const transactions = ledgerEnv.enabled ? createTransactionsApp({ env, settings: ledgerEnv, maxBodyBytes: apiEnv.maxBodyBytes }) : undefined;
if (transactions) app.route("/", transactions.app);

// Operators: /sync-health (+ /sync-health/metrics) and POST /reconcile.
app.route("/", createOpsApp({ env, schema: indexSchema, ledger: transactions?.ledger }));

// Read-only SQL over HTTP for analysts and @ponder/client (./sql-guard.ts: the policy, a
// read-only transaction per query, and on PostgreSQL a role that can only read).
const sqlTables = new Set([...Object.values(schema).flatMap((value) => (isTable(value) ? [getTableName(value)] : [])), "_ponder_checkpoint"]);
const sql_ = createSqlExecutor({ databaseUrl: env.databaseUrl, ...loadSqlEnv(), schema: indexSchema, tables: sqlTables, timeoutMs: apiEnv.sqlTimeoutMs });
app.use("/sql/*", sqlOverHttp({ tables: sqlTables, execute: sql_.execute, ready: sql_.ready, timeoutMs: apiEnv.sqlTimeoutMs }));
app.use("/sql/*", client({ db, schema, execute: sql_.execute }));

/** The database's snapshot: it changes with every commit, so equal tokens mean equal data
 * (see ./response-cache.ts). */
async function readSnapshot(): Promise<string> {
  const result = (await db.execute(sql`SELECT pg_current_snapshot()::text AS snapshot`)) as unknown as { rows: { snapshot: string }[] };
  const snapshot = result.rows[0]?.snapshot;
  if (typeof snapshot !== "string") throw new Error("pg_current_snapshot() returned no row.");
  return snapshot;
}

// Argument sizes (inline and in variables), negative pages, methods; internal errors masked.
const guard = graphqlGuard({
  maxBodyBytes: apiEnv.maxBodyBytes,
  maxVariablesBytes: apiEnv.graphqlMaxVariablesBytes,
  maxFilterClauses: apiEnv.graphqlMaxFilterClauses,
  maxFilterDepth: apiEnv.graphqlMaxFilterDepth,
  maxListItems: apiEnv.graphqlMaxListItems,
  maxTokens: graphqlLimits.maxOperationTokens,
});
app.use("/graphql", guard);
app.use("/", guard);

if (apiEnv.graphqlCacheMaxEntries > 0) {
  const cache = responseCache({
    readVersion: readSnapshot,
    maxEntries: apiEnv.graphqlCacheMaxEntries,
    maxBytes: apiEnv.graphqlCacheMaxBytes,
    maxBodyBytes: apiEnv.maxBodyBytes,
  });
  app.use("/graphql", cache);
  app.use("/", cache);
}

// GraphiQL for a browser's GET (./graphiql.ts), every file from this server; its files under
// /graphiql/ are never shed (a page that half loads helps nobody).
const graphiql = createGraphiQL({
  // Its docs and completion: the fixed introspection query (depth 21 as the limit counts it)
  // answered by a GraphQL middleware of its own, since the public limit of 8 refuses it. No
  // client's query ever reaches this one.
  introspect: introspectionFrom(graphql({ db, schema }, { ...graphqlLimits, maxOperationDepth: 32 })),
});
app.route("/", graphiql.assets);
app.use("/graphql", graphiql.page);
app.use("/", graphiql.page);

// GraphQL for the frontend (POST; a GET that does not ask for HTML still gets Ponder's answer).
app.use("/graphql", graphql({ db, schema }, graphqlLimits));
app.use("/", graphql({ db, schema }, graphqlLimits));

export default app;
