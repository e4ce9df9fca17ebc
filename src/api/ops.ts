/**
 * Operator endpoints, mounted by src/api/index.ts:
 *
 *   GET  /sync-health          the health as JSON (200 when ok/lagging, 503 when stalled/diverged)
 *   GET  /sync-health/metrics  the same as Prometheus gauges
 *   POST /reconcile            runs the reconciler now (Authorization: Bearer $ADMIN_TOKEN)
 *
 * They read the index through Ponder's own database connection (its read-only pool on
 * PostgreSQL, its PGlite instance otherwise), in whichever process serves the API: the indexer
 * (`ponder start`) or a replica (`ponder serve`).
 */
import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { SyncHealth } from "../../common/ops-api";
import { type Env, loadOpsEnv } from "../../config/env";
import { HealthMonitor, type IndexState } from "../../ops/health";
import { healthMetrics } from "../../ops/health-metrics";
import { readCheckpoint } from "../../ops/read-index";
import { type Query, type Snapshot, type SqlClient, pgliteSnapshot, postgresSnapshot, reconcile, reconcileSettings } from "../../ops/reconcile";
import { errorMessage } from "../../common/errors";
import type { LedgerHealth } from "../../common/ledger-api";

type PonderDatabase = {
  driver:
    | { dialect: "postgres"; readonly: { connect: () => Promise<SqlClient & { release: () => void }>; query: SqlClient["query"] } }
    | { dialect: "pglite"; instance: SqlClient & { transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => Promise<T> } };
};

/** The schema this process serves: Ponder's own namespace when it has set it, else `--schema` on
 * Ponder's command line, else DATABASE_SCHEMA, else "public" under `ponder dev` (its default). */
export function servedSchema(argv: string[] = process.argv, env: Record<string, string | undefined> = process.env): string {
  const namespace = (globalThis as { PONDER_NAMESPACE_BUILD?: { schema?: string } }).PONDER_NAMESPACE_BUILD?.schema;
  const i = argv.indexOf("--schema");
  const schema = namespace ?? (i >= 0 ? argv[i + 1] : undefined) ?? env.DATABASE_SCHEMA ?? (argv.includes("dev") ? "public" : undefined);
  if (!schema) throw new Error("No schema: run Ponder with --schema (npm start, npm run serve) or set DATABASE_SCHEMA.");
  return schema;
}

function database(): PonderDatabase {
  const db = (globalThis as { PONDER_DATABASE?: PonderDatabase }).PONDER_DATABASE;
  if (!db) throw new Error("Ponder's database is not available: this module runs only inside `ponder start` or `ponder serve`.");
  return db;
}

/** A plain query (no transaction) and a consistent snapshot over Ponder's connection. */
function access(): { query: Query; snapshot: Snapshot } {
  const { driver } = database();
  if (driver.dialect === "postgres") {
    return {
      query: async (sql) => (await driver.readonly.query(sql)).rows as Record<string, unknown>[],
      snapshot: postgresSnapshot(() => driver.readonly.connect()),
    };
  }
  return {
    query: async (sql) => (await driver.instance.query(sql)).rows as Record<string, unknown>[],
    snapshot: pgliteSnapshot(driver.instance),
  };
}

/** Ponder's checkpoint and readiness (`_ponder_meta`'s `is_ready`) for the served schema. */
async function readIndexState(params: { query: Query; schema: string; chainId: number }): Promise<IndexState | undefined> {
  const checkpoint = await readCheckpoint(params);
  if (!checkpoint) return undefined;
  const rows = await params.query(
    `SELECT (value->>'is_ready')::int AS is_ready FROM "${params.schema.replace(/"/g, '""')}"."_ponder_meta" WHERE key = 'app'`,
  );
  return { block: checkpoint.blockNumber, timestamp: checkpoint.blockTimestamp, ready: Number(rows[0]?.is_ready ?? 0) === 1 };
}

function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header?.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice("Bearer ".length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Builds the sub-app and starts its background sampler (and periodic reconciliation when
 * RECONCILE_ENABLED=true). */
export function createOpsApp(params: { env: Env; schema: string; ledgerHealth?: () => Promise<LedgerHealth> }) {
  const { env, schema } = params;
  const ops = loadOpsEnv();
  const db = access();

  const monitor = new HealthMonitor({
    ops,
    rpcUrl: env.rpcUrl,
    startBlock: env.startBlock,
    readIndex: () => readIndexState({ query: db.query, schema, chainId: env.chainId }),
    reconcile: () => reconcile({ snapshot: db.snapshot, schema, ...reconcileSettings(env, ops) }),
  }).start();

  const app = new Hono();

  /** The transaction ledger's counts, or why they could not be read. */
  const ledger = async (): Promise<SyncHealth["ledger"]> => {
    if (!params.ledgerHealth) return undefined;
    try {
      return await params.ledgerHealth();
    } catch (error) {
      return { error: errorMessage(error) };
    }
  };

  app.get("/sync-health", async (c) => {
    const [health, ledgerHealth] = await Promise.all([monitor.check(), ledger()]);
    return c.json({ ...health, ...(ledgerHealth ? { ledger: ledgerHealth } : {}) }, health.status === "ok" || health.status === "lagging" ? 200 : 503);
  });

  app.get("/sync-health/metrics", async (c) => {
    const health = await monitor.check();
    return c.text(healthMetrics(health), 200, { "content-type": "text/plain; version=0.0.4" });
  });

  app.post("/reconcile", async (c) => {
    if (!bearerMatches(c.req.header("authorization"), ops.adminToken)) {
      return c.json({ error: ops.adminToken ? "Unauthorized: send Authorization: Bearer <ADMIN_TOKEN>." : "Unauthorized: ADMIN_TOKEN is not set on this server." }, 401);
    }
    try {
      return c.json(await monitor.reconcile(), 200);
    } catch (error) {
      return c.json({ error: errorMessage(error) }, 500);
    }
  });

  return app;
}
