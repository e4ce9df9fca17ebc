/**
 * Operator endpoints, mounted by src/api/index.ts:
 *
 *   GET  /sync-health          the health as JSON (200 when ok/lagging, 503 when stalled/diverged)
 *   GET  /sync-health/metrics  the same as Prometheus gauges
 *   POST /reconcile            runs the reconciler now (Authorization: Bearer $ADMIN_TOKEN)
 *
 * They read the index through Ponder's own database connection (its read-only pool on
 * PostgreSQL, its PGlite instance otherwise), in whichever process serves the API: the indexer
 * (`ponder start`) or a replica (`ponder serve`). With the transaction ledger on, the reconciler
 * checks it too, and alerts (ops/alerts.ts) are raised only by the process that runs its
 * follower; with the ledger off, by this process.
 */
import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { SyncHealth } from "../../common/ops-api";
import { type Env, loadOpsEnv } from "../../config/env";
import { OpsAlerts } from "../../ops/alerts";
import { HealthMonitor, type IndexState } from "../../ops/health";
import { healthMetrics } from "../../ops/health-metrics";
import { readCheckpoint } from "../../ops/read-index";
import {
  type LedgerSource,
  type Query,
  type Snapshot,
  type SqlClient,
  ledgerSource,
  pgliteSnapshot,
  postgresSnapshot,
  reconcile,
  reconcileSettings,
} from "../../ops/reconcile";
import { errorMessage } from "../../common/errors";
import type { Ledger } from "../../ledger";

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

const RUNNING = Symbol.for("jenga.ops.monitor");
const processState = globalThis as { [RUNNING]?: { monitor: HealthMonitor; alerts: OpsAlerts } };

function log(line: string) {
  const logger = (globalThis as { PONDER_COMMON?: { logger?: { warn: (o: Record<string, unknown>) => void } } }).PONDER_COMMON?.logger;
  if (logger) logger.warn({ msg: line });
  else console.warn(line);
}

/** Builds the sub-app and starts its background sampler (and periodic reconciliation when
 * RECONCILE_ENABLED=true). `ledger`: the transaction ledger as it opens (absent when
 * LEDGER_ENABLED=false). */
export function createOpsApp(params: { env: Env; schema: string; ledger?: Promise<Ledger> }) {
  const { env, schema } = params;
  const ops = loadOpsEnv();
  const db = access();

  // The ledger once open.
  const ledgerState: { open?: Ledger } = {};
  params.ledger?.then(
    (l) => (ledgerState.open = l),
    () => undefined,
  );
  /** Whether this process raises alerts: the one running the ledger's follower; with the ledger
   * off, this one; with PGlite (one process) always; on PostgreSQL not before the ledger is open. */
  const isLeader = () => (!params.ledger || !env.databaseUrl ? true : (ledgerState.open?.isLeader() ?? false));

  const alerts = new OpsAlerts({
    ops,
    isLeader,
    timedOutSince: params.ledger && (async (query) => (await params.ledger!).store.timedOutSince(query)),
    log,
  });
  void params.ledger?.then((l) => alerts.setLedgerTimeout(l.settings.timeoutMs)).catch(() => undefined);

  /** The ledger for the reconciler, or why it is not checked. */
  const ledgerForReconcile = async (): Promise<LedgerSource> => {
    if (!params.ledger) return { skipped: "the transaction ledger is off in this API process (LEDGER_ENABLED=false)" };
    try {
      const l = await params.ledger;
      return ledgerSource({ query: l.store.sql.query, schema: l.store.schema, pageSize: ops.reconcilePageSize });
    } catch (error) {
      return { skipped: `the transaction ledger could not be opened: ${errorMessage(error)}` };
    }
  };

  const monitor = new HealthMonitor({
    ops,
    rpcUrl: env.rpcUrl,
    startBlock: env.startBlock,
    readIndex: () => readIndexState({ query: db.query, schema, chainId: env.chainId }),
    reconcile: async () => reconcile({ snapshot: db.snapshot, schema, ...reconcileSettings(env, ops), ledger: await ledgerForReconcile() }),
    onSample: (health) => alerts.sampled(health),
    onReconciled: (report) => {
      alerts.reconciled(report);
      // The chain wins: the follower looks again at the records the chain disagrees with (it
      // runs in one process; elsewhere this does nothing).
      const ledgerKeys = report.discrepancies.filter((d) => d.table === "ledger").map((d) => d.key);
      if (ledgerKeys.length > 0) ledgerState.open?.follower.recheck(ledgerKeys);
    },
  }).start();

  // `ponder dev` runs this module again on every edit: the previous sampler and alerter stop, or
  // both would raise every alert.
  const previous = processState[RUNNING];
  previous?.monitor.stop();
  void previous?.alerts.alerter.stop();
  processState[RUNNING] = { monitor, alerts };

  const app = new Hono();

  /** The transaction ledger's counts, or why they could not be read. */
  const ledger = async (): Promise<SyncHealth["ledger"]> => {
    if (!params.ledger) return undefined;
    try {
      return await (await params.ledger).health();
    } catch (error) {
      return { error: errorMessage(error) };
    }
  };

  /** The monitor's sample with the ledger's counts and the alerts. */
  const fullHealth = async (): Promise<SyncHealth> => {
    const [health, ledgerHealth] = await Promise.all([monitor.check(), ledger()]);
    return { ...health, ...(ledgerHealth ? { ledger: ledgerHealth } : {}), alerts: alerts.alerter.recent(), alerting: alerts.alerter.state() };
  };

  app.get("/sync-health", async (c) => {
    const health = await fullHealth();
    return c.json(health, health.status === "ok" || health.status === "lagging" ? 200 : 503);
  });

  app.get("/sync-health/metrics", async (c) => {
    return c.text(healthMetrics(await fullHealth()), 200, { "content-type": "text/plain; version=0.0.4" });
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
