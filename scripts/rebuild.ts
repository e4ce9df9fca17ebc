/**
 * Re-indexes the whole chain into a fresh schema while the current one keeps serving, verifies
 * it with the reconciler, and only then switches readers to it.
 *
 *   npm run rebuild -- [--views-schema jenga_live] [--schema jenga_20261125t1900] [--timeout-minutes 60] [--refetch]
 *
 * --refetch (PostgreSQL) first drops what Ponder cached for this chain in `ponder_sync`, so the
 * chain is read again from the RPC: needed after a reorg deeper than finality, whose replaced
 * blocks the cache still holds. (PGlite rebuilds always start with an empty cache.)
 *
 * PostgreSQL (DATABASE_URL): readers (replicas from `npm run serve`, analysts) read the stable
 * views schema. The new schema is built by a temporary `ponder start` beside the running indexer;
 * once it is at the head and reconciles clean, every view is re-pointed in one transaction, so a
 * reader sees either the old schema or the new one, never an error. A failed verification
 * changes nothing and prints the differences. Afterwards, restart the indexer on the new schema
 * (it resumes from its checkpoint) and drop the old one; the commands are printed.
 *
 * PGlite (no DATABASE_URL) allows one process per directory, so it is stop-and-swap: the new
 * index is built and verified in a new directory while the current indexer keeps serving; then
 * stop the indexer, move the directories as printed, and start it again.
 *
 * Exit codes: 0 rebuilt and switched (or ready to swap), 1 verification failed, 2 could not run.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { JengaError } from "../common/errors";
import { ConfigError, loadEnv } from "../config/env";
import type { SyncHealth } from "../ops/health";
import type { ReconcileReport } from "../ops/reconcile";
import { projectRoot } from "./lib/chama";
import { runMain } from "./lib/main";
import { spawnPonder } from "./lib/ponder";
import { getFreePort } from "./lib/ports";
import { stopProcess, waitFor } from "./lib/processes";
import { formatReport } from "./reconcile";

/** The rebuild cannot go on in the state it found: a schema or directory already taken, a
 * rebuilding indexer that exited (its output attached), a verification that could not run.
 * The message holds what the operator needs; a stack into this script would add nothing. */
class RebuildError extends JengaError {
  override name = "RebuildError";
  override readonly expected = true;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const stamp = () => new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").toLowerCase();

/** Builds an index with a temporary `ponder start`, waits for it to reach the chain's head and
 * reconciles it through its own POST /reconcile (one-time admin token). Stops it in all cases. */
async function buildAndVerify(params: { schema: string; env: Record<string, string>; timeoutMs: number }): Promise<ReconcileReport> {
  const port = await getFreePort();
  const token = randomBytes(24).toString("hex");
  const child = spawnPonder({
    args: ["start", "--schema", params.schema, "--port", String(port), "--hostname", "127.0.0.1"],
    stdio: "pipe",
    // The serving API already follows the ledger; a second follower would rebroadcast twice.
    // Nor does it alert: its backfill is not the served index lagging.
    env: { ...params.env, ADMIN_TOKEN: token, RECONCILE_ENABLED: "false", LEDGER_ENABLED: "false", ALERT_WEBHOOK_URL: "", HEALTH_SAMPLE_INTERVAL_MS: "500", PONDER_LOG_LEVEL: "warn" },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    let lastPrinted = 0;
    const health = await waitFor({
      what: `the rebuild of schema "${params.schema}" to reach the chain's head`,
      timeoutMs: params.timeoutMs,
      intervalMs: 250,
      check: async () => {
        if (child.exitCode !== null) throw new RebuildError(`the rebuilding indexer exited with code ${child.exitCode}:\n${output.slice(-3000)}`);
        const response = await fetch(`${url}/sync-health`);
        const body = (await response.json()) as SyncHealth;
        if (Date.now() - lastPrinted > 5_000 && body.sync) {
          lastPrinted = Date.now();
          console.log(`  ${body.sync.mode} ${(body.sync.progress * 100).toFixed(1)}% (indexed block ${body.indexed?.block ?? "none"})`);
        }
        return body.sync?.ready && body.lag?.blocks === 0 ? body : undefined;
      },
    }).catch((error: unknown) => {
      if (error instanceof Error && error.cause instanceof RebuildError) throw error.cause;
      throw error;
    });
    console.log(`  indexed up to block ${health.indexed?.block}; verifying against the chain`);
    const response = await fetch(`${url}/reconcile`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as ReconcileReport & { error?: string };
    if (!response.ok) throw new RebuildError(`verification could not run: ${body.error ?? response.status}`);
    return body;
  } finally {
    await stopProcess(child, { graceMs: 10_000 });
  }
}

/** Re-points every view of `viewsSchema` at `schema` in one transaction (the statements Ponder
 * itself uses for --views-schema), moving the live-query trigger along. */
async function switchViews(params: { client: pg.Client; schema: string; viewsSchema: string; oldSchema: string | undefined }) {
  const { client, schema, viewsSchema, oldSchema } = params;
  const meta = await client.query<{ value: { table_names?: string[]; view_names?: string[] } }>(
    `SELECT value FROM ${quote(schema)}."_ponder_meta" WHERE key = 'app'`,
  );
  const app = meta.rows[0]?.value;
  if (!app?.table_names) throw new RebuildError(`schema "${schema}" has no Ponder app metadata`);
  const names = [...app.table_names, ...(app.view_names ?? []), "_ponder_meta", "_ponder_checkpoint"];
  const trigger = quote(`${viewsSchema}_live_query_notify`);
  await client.query("BEGIN");
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quote(viewsSchema)}`);
    for (const name of names) {
      await client.query(`DROP VIEW IF EXISTS ${quote(viewsSchema)}.${quote(name)}`);
      await client.query(`CREATE VIEW ${quote(viewsSchema)}.${quote(name)} AS SELECT * FROM ${quote(schema)}.${quote(name)}`);
    }
    const procedure = await client.query(
      `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = 'live_query_notify'`,
      [viewsSchema],
    );
    if (procedure.rowCount) {
      if (oldSchema) await client.query(`DROP TRIGGER IF EXISTS ${trigger} ON ${quote(oldSchema)}."_ponder_checkpoint"`);
      await client.query(
        `CREATE OR REPLACE TRIGGER ${trigger} AFTER INSERT OR UPDATE OR DELETE ON ${quote(schema)}."_ponder_checkpoint" ` +
          `FOR EACH STATEMENT EXECUTE PROCEDURE ${quote(viewsSchema)}.live_query_notify()`,
      );
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}

/** Ponder's sync-store tables that cache one chain's data (blocks, logs, RPC results, and the
 * block ranges it believes it already has). */
const SYNC_TABLES = ["intervals", "rpc_request_results", "logs", "blocks", "transactions", "transaction_receipts", "traces", "factory_addresses"];

/** Drops everything Ponder cached for `chainId`, so the rebuild reads the chain again instead of
 * the cache (which a reorg deeper than finality, or a faulty RPC, may have left wrong). */
async function clearSyncCache(client: pg.Client, chainId: number): Promise<void> {
  await client.query("BEGIN");
  try {
    for (const table of SYNC_TABLES) {
      const exists = await client.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'ponder_sync' AND table_name = $1", [table]);
      if (exists.rowCount) await client.query(`DELETE FROM ponder_sync.${quote(table)} WHERE chain_id = $1`, [chainId]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}

/** The schema the views schema currently reads, if any. */
async function servedBy(client: pg.Client, viewsSchema: string): Promise<string | undefined> {
  const result = await client.query<{ table_schema: string }>(
    "SELECT table_schema FROM information_schema.view_table_usage WHERE view_schema = $1 AND view_name = '_ponder_checkpoint'",
    [viewsSchema],
  );
  return result.rows[0]?.table_schema;
}

function childEnv(overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, ...overrides };
}

async function rebuildPostgres(params: {
  databaseUrl: string;
  chainId: number;
  viewsSchema: string;
  schema: string;
  timeoutMs: number;
  refetch: boolean;
}): Promise<number> {
  const { databaseUrl, viewsSchema, schema, timeoutMs } = params;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const oldSchema = await servedBy(client, viewsSchema);
    const exists = await client.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema]);
    if (exists.rowCount) throw new RebuildError(`schema "${schema}" already exists: choose another with --schema.`);
    console.log(`Rebuilding into schema "${schema}"; readers on "${viewsSchema}" stay on "${oldSchema ?? "(none yet)"}" meanwhile.`);
    if (params.refetch) {
      await clearSyncCache(client, params.chainId);
      console.log(`  cleared Ponder's sync cache for chain ${params.chainId}: everything is read from the RPC again`);
    }

    const report = await buildAndVerify({ schema, env: childEnv({}), timeoutMs });
    console.log(formatReport(report));
    if (!report.ok) {
      console.error(
        `Verification failed: the rebuilt schema "${schema}" differs from the chain (above). Nothing was switched: ` +
          `readers on "${viewsSchema}" still read "${oldSchema ?? "(none)"}". Inspect "${schema}", then drop it: DROP SCHEMA ${quote(schema)} CASCADE;`,
      );
      return 1;
    }
    await switchViews({ client, schema, viewsSchema, oldSchema });
    console.log(`Switched readers on "${viewsSchema}" from "${oldSchema ?? "(none)"}" to "${schema}" (verified at block ${report.block}).`);
    console.log("Next:");
    console.log(`  1. restart the indexer on the new schema (it resumes from block ${report.block}): npm start -- --schema ${schema} --views-schema ${viewsSchema}`);
    if (oldSchema) {
      console.log(`  2. stop the indexer that writes "${oldSchema}" for good (restarted, it would switch the views back)`);
      console.log(`  3. drop the old schema: DROP SCHEMA ${quote(oldSchema)} CASCADE;`);
    }
    return 0;
  } finally {
    await client.end();
  }
}

async function rebuildPglite(params: { liveDirectory: string; directory: string; schema: string; timeoutMs: number }): Promise<number> {
  const { liveDirectory, directory, schema, timeoutMs } = params;
  if (existsSync(directory)) throw new RebuildError(`${directory} already exists: choose another with --pglite-directory.`);
  console.log(`Rebuilding into ${directory} (PGlite); the running indexer keeps serving ${liveDirectory} meanwhile.`);
  const report = await buildAndVerify({ schema, env: childEnv({ DATABASE_URL: "", PGLITE_DIRECTORY: directory }), timeoutMs });
  console.log(formatReport(report));
  if (!report.ok) {
    console.error(`Verification failed: the rebuilt index in ${directory} differs from the chain (above). Nothing was swapped; delete ${directory} when done.`);
    return 1;
  }
  const old = `${liveDirectory}-old-${stamp()}`;
  console.log(`Verified at block ${report.block}. PGlite is single-process, so swap it in with a short stop:`);
  console.log(`  1. stop the indexer`);
  console.log(`  2. mv ${liveDirectory} ${old} && mv ${directory} ${liveDirectory}`);
  console.log(`  3. npm start -- --schema ${schema}   (it resumes from block ${report.block})`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      "views-schema": { type: "string", default: process.env.DATABASE_VIEWS_SCHEMA ?? "jenga_live" },
      schema: { type: "string" },
      "pglite-directory": { type: "string" },
      "timeout-minutes": { type: "string", default: "60" },
      refetch: { type: "boolean", default: false },
    },
  });
  await runMain(
    async () => {
      const env = loadEnv({ root: projectRoot });
      const minutes = Number(values["timeout-minutes"]);
      if (!Number.isFinite(minutes) || minutes <= 0) throw new ConfigError(`--timeout-minutes must be a positive number, got "${values["timeout-minutes"]}".`);
      const timeoutMs = minutes * 60_000;
      if (env.databaseUrl) {
        const schema = values.schema ?? `jenga_${stamp()}`;
        if (schema.length > 45) throw new ConfigError(`--schema must be at most 45 characters (Ponder's limit), got "${schema}".`);
        process.exitCode = await rebuildPostgres({
          databaseUrl: env.databaseUrl,
          chainId: env.chainId,
          viewsSchema: values["views-schema"],
          schema,
          timeoutMs,
          refetch: values.refetch,
        });
      } else {
        const directory = values["pglite-directory"] ?? path.join(path.dirname(env.pgliteDirectory), `pglite-rebuild-${stamp()}`);
        const schema = values.schema ?? process.env.DATABASE_SCHEMA ?? "jenga";
        process.exitCode = await rebuildPglite({ liveDirectory: env.pgliteDirectory, directory, schema, timeoutMs });
      }
    },
    { exitCode: 2 },
  );
}
