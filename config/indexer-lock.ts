/**
 * One indexer per schema, and no wait after a crash.
 *
 * Ponder marks a schema locked in `<schema>._ponder_meta` (key `app`, `is_locked`) and renews a
 * heartbeat every 10 s; a process killed with SIGKILL (an OOM kill, a power cut, a deploy that
 * does not wait) leaves the mark set, and the next `ponder start` on that schema waits until the
 * heartbeat is 25 s old before its crash recovery begins. This module proves the previous
 * indexer is gone, and then clears the mark so crash recovery starts at once:
 *
 * - PostgreSQL: every indexer of this project holds a session-level advisory lock keyed by its
 *   schema for as long as it runs, on a connection of its own. PostgreSQL releases it the moment
 *   that process's connection closes, which its death does. An indexer that takes the advisory
 *   lock knows no other indexer of this project holds the schema. If the lock is held, nothing is
 *   cleared and Ponder's own lock decides (it waits, then refuses to start). The lock connection
 *   is watched: if it breaks, it is opened again and the lock taken again; if another process
 *   took it meanwhile, this process stops, so two indexers never write one schema.
 * - PGlite: one directory belongs to one process. The indexer writes its PID beside the directory
 *   (`<directory>.pid`); a PID file whose process is gone (or is this very process, as after a
 *   container restart) proves the mark stale.
 *
 * A mark cleared here changes nothing else: Ponder still finds its checkpoints and runs its own
 * crash recovery (reverting rows past the safe checkpoint), exactly as after a 25 s wait.
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import pg from "pg";
import { errorMessage } from "../common/errors";
import type { Queryable } from "./chain-cache";

/** Advisory-lock namespace of this project's indexers (the first key of the two-key form). */
const LOCK_NAMESPACE = "jenga-indexer";

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The schema `ponder start` / `ponder dev` will use: `--schema`, else DATABASE_SCHEMA, else
 * `public` (Ponder's own order). */
export function ponderSchema(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): string {
  const i = argv.indexOf("--schema");
  if (i >= 0 && argv[i + 1]) return argv[i + 1]!;
  const inline = argv.find((a) => a.startsWith("--schema="));
  if (inline) return inline.slice("--schema=".length);
  return env.DATABASE_SCHEMA || "public";
}

export type StaleMark = { cleared: false; reason: string } | { cleared: true; lastHeartbeatSecondsAgo: number | null };

/** Clears Ponder's lock mark on `schema` once the caller has proved its holder gone. Returns
 * whether there was a mark to clear. */
export async function clearStaleMark(params: { db: Queryable; schema: string }): Promise<StaleMark> {
  const table = `${quote(params.schema)}._ponder_meta`;
  const [present] = await params.db.query("SELECT to_regclass($1) IS NOT NULL AS present", [table]);
  if (!present?.present) return { cleared: false, reason: "the schema holds no Ponder app yet" };
  const rows = await params.db.query(
    `UPDATE ${table} SET value = jsonb_set(value, '{is_locked}', to_jsonb(0))
      WHERE key = 'app' AND (value->>'is_locked')::int = 1
      RETURNING (value->>'heartbeat_at')::bigint::text AS heartbeat_at`,
  );
  if (rows.length === 0) return { cleared: false, reason: "the last indexer stopped cleanly" };
  const heartbeat = rows[0]?.heartbeat_at;
  return { cleared: true, lastHeartbeatSecondsAgo: heartbeat ? Math.round((Date.now() - Number(heartbeat)) / 100) / 10 : null };
}

function describe(schema: string, mark: StaleMark, how: string): string | undefined {
  if (!mark.cleared) return undefined;
  const ago = mark.lastHeartbeatSecondsAgo === null ? "" : ` (its last heartbeat ${mark.lastHeartbeatSecondsAgo} s ago)`;
  return `The previous indexer on schema "${schema}" is gone${ago}: ${how}. Its lock is cleared, so crash recovery starts now instead of after Ponder's 25 s lock timeout.`;
}

const HELD = Symbol.for("jenga.indexer-lock");
const processState = globalThis as { [HELD]?: { schema: string; release: () => Promise<void> } };

/**
 * PostgreSQL: takes this project's advisory lock on `schema` for the life of the process and,
 * when it gets it, clears a stale Ponder mark. Idempotent per process (`ponder dev` runs the
 * config again on every edit).
 */
export async function holdPostgresLock(params: {
  databaseUrl: string;
  schema: string;
  log: (line: string) => void;
  /** Called when the lock is lost to another process (default: exit 1). */
  onLost?: (message: string) => void;
  connectTimeoutMs?: number;
}): Promise<{ held: boolean; mark?: StaleMark }> {
  const { schema, log } = params;
  if (processState[HELD]?.schema === schema) return { held: true };
  const onLost =
    params.onLost ??
    ((message: string) => {
      log(message);
      process.exit(1);
    });
  let stopped = false;
  let client: pg.Client | undefined;

  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({
      connectionString: params.databaseUrl,
      connectionTimeoutMillis: params.connectTimeoutMs ?? 5_000,
      keepAlive: true,
      application_name: `jenga-indexer-lock:${schema}`.slice(0, 63),
    });
    c.on("error", () => undefined);
    await c.connect();
    return c;
  };
  const tryLock = async (c: pg.Client): Promise<boolean> => {
    const { rows } = await c.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked", [LOCK_NAMESPACE, schema]);
    return rows[0]?.locked === true;
  };

  client = await connect();
  const held = await tryLock(client);
  if (!held) {
    await client.end().catch(() => undefined);
    log(
      `Another indexer of this project holds schema "${schema}" (its database session is open): ` +
        "its lock is left to Ponder, which waits for it and refuses to start if it is still in use. Stop the other indexer, or use another --schema.",
    );
    return { held: false };
  }
  const mark = await clearStaleMark({ db: { query: async (text, values) => (await client!.query(text, values)).rows }, schema });
  const line = describe(schema, mark, "its database session has ended");
  if (line) log(line);

  // Keep the lock: re-take it on a new connection if this one breaks.
  const watch = (c: pg.Client) => {
    c.once("end", () => {
      if (stopped) return;
      void (async () => {
        for (let attempt = 1; !stopped; attempt++) {
          try {
            const next = await connect();
            if (await tryLock(next)) {
              client = next;
              watch(next);
              return;
            }
            await next.end().catch(() => undefined);
            onLost(`The indexer lock on schema "${schema}" was taken by another process while this one's database connection was down: stopping, so that two indexers never write one schema.`);
            return;
          } catch (error) {
            if (attempt === 1 || attempt % 10 === 0) log(`The indexer lock connection for schema "${schema}" is down (${errorMessage(error)}); retrying.`);
            await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * attempt)));
          }
        }
      })();
    });
  };
  watch(client);
  processState[HELD] = {
    schema,
    release: async () => {
      stopped = true;
      await client?.end().catch(() => undefined);
    },
  };
  return { held: true, mark };
}

/** Whether process `pid` is alive and is a Ponder indexer (where /proc tells). */
function indexerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("ponder");
  } catch {
    return true;
  }
}

/** The PID file of an indexer on a PGlite directory. */
export const pidFile = (directory: string) => `${directory.replace(/\/+$/, "")}.pid`;

/** The live indexer process that holds a PGlite directory, if any (its PID file). */
export function pgliteHolder(directory: string): number | undefined {
  const file = pidFile(directory);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return indexerAlive(pid) ? pid : undefined;
}

/**
 * PGlite: clears a stale mark when the PID file names a process that is gone (the caller has
 * checked `pgliteHolder` first), then writes this process's PID (removed again on exit). `db` is
 * the directory opened before Ponder opens it, or undefined when it holds no database yet.
 */
export async function claimPgliteDirectory(params: { directory: string; schema: string; db: Queryable | undefined; log: (line: string) => void }): Promise<StaleMark | undefined> {
  const file = pidFile(params.directory);
  let mark: StaleMark | undefined;
  const previous = existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
  if (previous !== undefined && params.db) {
    mark = await clearStaleMark({ db: params.db, schema: params.schema });
    const line = describe(params.schema, mark, `process ${previous} no longer runs`);
    if (line) params.log(line);
  }
  if (processState[HELD]?.schema !== params.schema) {
    writeFileSync(file, `${process.pid}\n`);
    process.once("exit", () => {
      try {
        if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
      } catch {
        // Already gone.
      }
    });
    processState[HELD] = { schema: params.schema, release: async () => undefined };
  }
  return mark;
}
