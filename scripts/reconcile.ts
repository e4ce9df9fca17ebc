/**
 * Compares the index with the chain at the indexed block and exits non-zero on any difference.
 *
 *   npm run reconcile                          # PostgreSQL (DATABASE_URL): reads schema "jenga" directly
 *   npm run reconcile -- --schema jenga_live   # any schema, views schemas included
 *   npm run reconcile -- --url http://127.0.0.1:42069   # asks a running API (POST /reconcile, ADMIN_TOKEN)
 *   npm run reconcile -- --json                # the full report as JSON
 *
 * PGlite can be opened by one process only, so on PGlite it asks the running indexer (--url,
 * default http://127.0.0.1:$PORT or 42069), which checks the index and its own embedded
 * transaction ledger. On PostgreSQL it checks the ledger too, reading LEDGER_SCHEMA itself
 * (skipped, and said so, with LEDGER_ENABLED=false or when that schema holds no ledger).
 *
 * Exit codes: 0 the index equals the chain, 1 differences found, 2 the check could not run.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { JengaError } from "../common/errors";
import { ConfigError, loadEnv, loadLedgerEnv, loadOpsEnv } from "../config/env";
import { type LedgerSource, type ReconcileReport, ledgerSource, ledgerTablesExist, postgresSnapshot, reconcile, reconcileSettings } from "../ops/reconcile";
import { projectRoot } from "./lib/chama";
import { runMain } from "./lib/main";

/** A running API that could not be reached or refused POST /reconcile; the message says which
 * and what it answered. */
class ReconcileRequestError extends JengaError {
  override name = "ReconcileRequestError";
  override readonly expected = true;
}

export type RunReconcileParameters = { url?: string; schema?: string };

/** The report, and the API that ran it when it was asked over HTTP. */
export type RunReconcileReturnType = ReconcileReport & { via?: string };

/** The ledger on PostgreSQL, read directly from LEDGER_SCHEMA, or why it is not checked. */
async function directLedger(pool: pg.Pool, pageSize: number): Promise<LedgerSource> {
  const settings = loadLedgerEnv();
  if (!settings.enabled) return { skipped: "the transaction ledger is off (LEDGER_ENABLED=false)" };
  const query = async (text: string, values?: unknown[]) => (await pool.query(text, values)).rows as Record<string, unknown>[];
  if (!(await ledgerTablesExist({ query, schema: settings.schema }))) {
    return { skipped: `schema "${settings.schema}" (LEDGER_SCHEMA) holds no transaction ledger in DATABASE_URL's database: has the API run with the ledger on?` };
  }
  return ledgerSource({ query, schema: settings.schema, pageSize });
}

/** Runs the reconciler directly against PostgreSQL, or through a running API's POST /reconcile. */
export async function runReconcile(params: RunReconcileParameters): Promise<RunReconcileReturnType> {
  const env = loadEnv({ root: projectRoot });
  const ops = loadOpsEnv();
  const url = params.url ?? (env.databaseUrl ? undefined : `http://127.0.0.1:${process.env.PORT ?? "42069"}`);
  if (url) {
    if (!ops.adminToken) throw new ConfigError(`ADMIN_TOKEN is not set: it is needed to call POST ${url}/reconcile.`);
    let response: Response;
    try {
      response = await fetch(`${url}/reconcile`, { method: "POST", headers: { authorization: `Bearer ${ops.adminToken}` } });
    } catch (cause) {
      throw new ReconcileRequestError(`Cannot reach the API at ${url}: is the indexer running?`, { cause, details: { url } });
    }
    const body = (await response.json()) as ReconcileReport & { error?: string };
    if (!response.ok) {
      throw new ReconcileRequestError(`POST ${url}/reconcile answered ${response.status}: ${body.error ?? JSON.stringify(body)}`, {
        details: { url, status: response.status },
      });
    }
    return { ...body, via: url };
  }
  const schema = params.schema ?? process.env.DATABASE_SCHEMA ?? "jenga";
  // Two connections: the index's snapshot holds one while the ledger is read on the other.
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  try {
    const ledger = await directLedger(pool, ops.reconcilePageSize);
    return await reconcile({ snapshot: postgresSnapshot(() => pool.connect()), schema, ...reconcileSettings(env, ops), ledger });
  } finally {
    await pool.end();
  }
}

/** What the report says of the ledger, in one line. */
function ledgerLine(report: RunReconcileReturnType): string {
  const where = report.via ? ` (in the API at ${report.via}: it holds the ledger)` : "";
  const check = report.ledger as ReconcileReport["ledger"] | undefined;
  if (!check) return `ledger: not checked (the API${report.via ? ` at ${report.via}` : ""} predates the ledger check)`;
  if ("skipped" in check) return `ledger: not checked${where}: ${check.skipped}`;
  return `ledger: ${check.checked} confirmed and reconciled records up to block ${report.block} checked against their receipts and the index${where}, ${check.receipts} receipts fetched`;
}

/** One summary line and the first differences, for people. */
export function formatReport(report: RunReconcileReturnType, limit = 20): string {
  const kinds = new Map<string, number>();
  for (const d of report.discrepancies) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
  const lines = [
    `reconcile at block ${report.block}: ${report.rows.chamas} chamas, ${report.rows.members} members, ` +
      `${report.rows.contributions} contributions, ${report.rows.payouts} payouts, ${report.logs} logs; ` +
      `${report.rpc.calls} RPC calls in ${report.rpc.httpRequests} HTTP requests; ${report.durationMs} ms`,
    ledgerLine(report),
    report.ok
      ? `the index equals the chain${report.ledger && "checked" in report.ledger ? ", and the ledger agrees with both" : ""}`
      : `${report.discrepancyCount} differences (${[...kinds].map(([k, n]) => `${n} ${k}`).join(", ")}${report.discrepancies.length < report.discrepancyCount ? ", first ones listed" : ""})`,
  ];
  for (const d of report.discrepancies.slice(0, limit)) {
    const detail =
      d.kind === "value_mismatch"
        ? (d.fields ?? []).map((f) => `${f}: db ${d.db?.[f]} chain ${d.chain?.[f]}`).join("; ")
        : JSON.stringify(d.kind === "missing_in_db" ? d.chain : d.db);
    lines.push(`  ${d.kind} ${d.table} ${d.key}: ${detail}`);
  }
  if (report.discrepancyCount > limit) lines.push(`  … ${report.discrepancyCount - limit} more (--json lists them)`);
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { url: { type: "string" }, schema: { type: "string" }, json: { type: "boolean", default: false } },
  });
  await runMain(
    async () => {
      const report = await runReconcile({ url: values.url, schema: values.schema });
      console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
      process.exitCode = report.ok ? 0 : 1;
    },
    { exitCode: 2 },
  );
}
