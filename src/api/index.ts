import { db } from "ponder:api";
import schema from "ponder:schema";
import { Hono } from "hono";
import { client, graphql } from "ponder";
import { loadEnv, loadOpsEnv } from "../env";
import { createOpsApp, servedSchema } from "./ops";
import { runawayCanceller, sqlGuard } from "./sql-guard";

/** Limits that keep one GraphQL request from monopolising the server. The page size cap
 * (1000 rows) is Ponder's own. */
export const graphqlLimits = {
  maxOperationTokens: 2_000,
  maxOperationDepth: 8,
  maxOperationAliases: 20,
} as const;

const app = new Hono();

// Operators: /sync-health (+ /sync-health/metrics) and POST /reconcile.
app.route("/", createOpsApp());

// Read-only SQL over HTTP for analysts and @ponder/client; internal tables are refused, and a
// query gets SQL_TIMEOUT_MS (on PostgreSQL it is then cancelled in the database too).
const { databaseUrl } = loadEnv();
const { sqlTimeoutMs } = loadOpsEnv();
app.use(
  "/sql/*",
  sqlGuard({ timeoutMs: sqlTimeoutMs, cancel: databaseUrl ? runawayCanceller({ databaseUrl, schema: servedSchema() }) : undefined }),
);
app.use("/sql/*", client({ db, schema }));

// GraphQL for the frontend; GET serves GraphiQL.
app.use("/graphql", graphql({ db, schema }, graphqlLimits));
app.use("/", graphql({ db, schema }, graphqlLimits));

export default app;
