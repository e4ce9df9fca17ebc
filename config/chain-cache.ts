/**
 * The indexer's database before Ponder opens it: a bounded connection check, and the chain-reset
 * check of Ponder's RPC cache.
 *
 * Ponder caches what it fetched from the chain (blocks, logs, transactions, receipts, RPC
 * results, synced intervals) in the schema `ponder_sync`, one per database, shared by every
 * schema in it and keyed by chain id only. When a chain restarts under the same id (anvil, a
 * devnet, a CI chain), the cache still holds the dead chain and Ponder serves its events: even
 * with `disableCache`, the backfill reads its logs back from `ponder_sync`. Nothing in Ponder
 * compares the cache with the chain; this module does, before Ponder starts.
 *
 * On a mismatch it drops that chain's cached rows rather than refusing to start: the cache is
 * derived data that Ponder fetches again, the chain is the source of truth, and a refusal would
 * only leave the operator to delete the same rows by hand (and, on a shared database, guess
 * which). Other chains' rows are kept.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { Hex, PublicClient } from "viem";
import { JengaError, errorMessage } from "../common/errors";

/** A connection or query failure with a message that names DATABASE_URL and the fix. */
export class DatabaseCheckError extends JengaError {
  override name = "DatabaseCheckError";
  override readonly expected = true;
}

type Row = Record<string, unknown>;

export type Queryable = { query: (text: string, params?: unknown[]) => Promise<Row[]> };

export type StartupDatabase = Queryable & {
  /** "PostgreSQL database jenga on 127.0.0.1:5432" or "PGlite at .ponder/pglite", for log lines. */
  description: string;
  /** Runs `run` in one transaction: all of it commits or none. */
  transaction: <T>(run: (tx: Queryable) => Promise<T>) => Promise<T>;
  close: () => Promise<void>;
};

export type OpenStartupDatabaseParameters = {
  databaseUrl: string | undefined;
  pgliteDirectory: string;
  /** Bound on connecting to PostgreSQL (default 5 s). */
  connectTimeoutMs?: number;
};

/** The connection string without its password, for messages. */
function describeUrl(url: URL): string {
  const user = url.username ? `${decodeURIComponent(url.username)}@` : "";
  return `postgresql://${user}${url.host}${url.pathname}`;
}

/** Connects to PostgreSQL, or opens the PGlite directory when it holds a database. Resolves
 * `undefined` for a PGlite directory that Ponder has not created yet (nothing to check, and
 * opening it would create it). Throws a DatabaseCheckError naming DATABASE_URL and the fix. */
export async function openStartupDatabase(params: OpenStartupDatabaseParameters): Promise<StartupDatabase | undefined> {
  if (params.databaseUrl) return openPostgres({ url: params.databaseUrl, connectTimeoutMs: params.connectTimeoutMs ?? 5_000 });
  if (!existsSync(path.join(params.pgliteDirectory, "PG_VERSION"))) return undefined;
  return openPglite(params.pgliteDirectory);
}

async function openPostgres(params: { url: string; connectTimeoutMs: number }): Promise<StartupDatabase> {
  const url = new URL(params.url);
  const shown = describeUrl(url);
  const database = decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || "postgres";
  const client = new pg.Client({
    connectionString: params.url,
    connectionTimeoutMillis: params.connectTimeoutMs,
    // Reads below use indexes; a stuck server must not hold the start-up forever.
    statement_timeout: 60_000,
    application_name: "jenga-preflight",
  });
  // A connection that dies later must not crash the process with an unhandled 'error' event.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    await client.end().catch(() => undefined);
    const code = (cause as { code?: string }).code;
    const reason = errorMessage(cause).split("\n")[0];
    if (code === "28P01" || code === "28000") {
      throw new DatabaseCheckError(
        `PostgreSQL at ${url.host} refused the credentials in DATABASE_URL (${shown}): ${reason}. ` +
          "Fix the user and password in DATABASE_URL, or create the role (`createuser --pwprompt NAME`).",
        { cause },
      );
    }
    if (code === "3D000") {
      throw new DatabaseCheckError(
        `Database "${database}" does not exist on ${url.host} (DATABASE_URL ${shown}). ` +
          `Create it (\`createdb ${database}\`) or fix the database name in DATABASE_URL.`,
        { cause },
      );
    }
    throw new DatabaseCheckError(
      `Cannot connect to PostgreSQL at ${url.host} (DATABASE_URL ${shown}) within ${params.connectTimeoutMs} ms: ${reason}. ` +
        "Start PostgreSQL, or fix the host and port in DATABASE_URL (unset it to use the embedded PGlite database).",
      { cause },
    );
  }
  const query = async (text: string, values?: unknown[]) => (await client.query(text, values)).rows as Row[];
  return {
    description: `PostgreSQL database ${database} on ${url.host}`,
    query,
    transaction: async (run) => {
      await client.query("BEGIN");
      try {
        // Deleting a large cache may take a while; the read bound does not apply to it.
        await client.query("SET LOCAL statement_timeout = 0");
        const result = await run({ query });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
    },
    close: () => client.end(),
  };
}

async function openPglite(directory: string): Promise<StartupDatabase> {
  // The same PGlite build as Ponder's (0.2.13), loaded only on this path. It runs in this
  // process before Ponder opens the directory (Ponder executes the config first) and is closed
  // before this check returns: two instances on one directory would corrupt it.
  const { PGlite } = await import("@electric-sql/pglite");
  const db = new PGlite({ dataDir: directory });
  await db.waitReady;
  const relative = path.relative(process.cwd(), directory);
  return {
    description: `PGlite at ${relative && !relative.startsWith("..") ? relative : directory}`,
    query: async (text, values) => (await db.query<Row>(text, values)).rows,
    transaction: async (run) => {
      const result = await db.transaction((tx) => run({ query: async (text, values) => (await tx.query<Row>(text, values)).rows }));
      return result as Awaited<ReturnType<typeof run>>;
    },
    close: () => db.close(),
  };
}

/** Every `ponder_sync` table with a `chain_id` column (Ponder 0.16's sync store). */
const CHAIN_TABLES = ["logs", "blocks", "transactions", "transaction_receipts", "traces", "rpc_request_results", "intervals", "factory_addresses"] as const;

export type StaleCacheEvidence =
  | { kind: "hash"; number: bigint; cachedHash: Hex; chainHash: Hex }
  | { kind: "above-head"; number: bigint; head: bigint };

export type CheckChainCacheParameters = {
  database: StartupDatabase;
  chainId: number;
  client: Pick<PublicClient, "getBlockNumber" | "getBlock">;
};

export type CheckChainCacheReturnType =
  | { status: "empty" }
  | { status: "consistent"; checkedBlocks: bigint[] }
  | { status: "dropped"; evidence: StaleCacheEvidence; deleted: Record<string, number>; message: string };

/** Compares what `ponder_sync` holds for the chain with the chain itself: the highest cached
 * block number in any table must not be above the head, and the lowest and highest cached
 * blocks and logs must carry the chain's own hash at their height. On a mismatch, deletes every
 * row of this chain id from `ponder_sync` in one transaction and returns what it found and
 * deleted (`message` is the log line). */
export async function checkChainCache(params: CheckChainCacheParameters): Promise<CheckChainCacheReturnType> {
  const { database, chainId, client } = params;
  const [present] = await database.query("SELECT to_regclass('ponder_sync.blocks') IS NOT NULL AS present");
  if (!present?.present) return { status: "empty" };

  const [highestRow] = await database.query(
    `SELECT GREATEST(
       (SELECT max(number) FROM ponder_sync.blocks WHERE chain_id = $1)::numeric,
       (SELECT max(block_number) FROM ponder_sync.logs WHERE chain_id = $1)::numeric,
       (SELECT max(block_number) FROM ponder_sync.transactions WHERE chain_id = $1)::numeric,
       (SELECT max(block_number) FROM ponder_sync.rpc_request_results WHERE chain_id = $1)::numeric,
       (SELECT max(upper(blocks)) FROM ponder_sync.intervals WHERE chain_id = $1)::numeric
     )::text AS highest`,
    [chainId],
  );
  if (highestRow?.highest === null || highestRow?.highest === undefined) return { status: "empty" };
  // Interval bounds are numeric; a whole block number either way.
  const highest = BigInt(String(highestRow.highest).split(".")[0]!);

  let evidence: StaleCacheEvidence | undefined;
  const checkedBlocks: bigint[] = [];
  const head = await client.getBlockNumber({ cacheTime: 0 });
  if (highest > head) {
    evidence = { kind: "above-head", number: highest, head };
  } else {
    const samples = await database.query(
      `(SELECT number::text AS number, hash FROM ponder_sync.blocks WHERE chain_id = $1 ORDER BY number ASC LIMIT 1)
       UNION ALL (SELECT number::text, hash FROM ponder_sync.blocks WHERE chain_id = $1 ORDER BY number DESC LIMIT 1)
       UNION ALL (SELECT block_number::text, block_hash FROM ponder_sync.logs WHERE chain_id = $1 ORDER BY block_number ASC LIMIT 1)
       UNION ALL (SELECT block_number::text, block_hash FROM ponder_sync.logs WHERE chain_id = $1 ORDER BY block_number DESC LIMIT 1)`,
      [chainId],
    );
    const byNumber = new Map<bigint, Set<string>>();
    for (const row of samples) {
      const number = BigInt(String(row.number));
      const hashes = byNumber.get(number) ?? new Set<string>();
      hashes.add(String(row.hash).toLowerCase());
      byNumber.set(number, hashes);
    }
    const numbers = [...byNumber.keys()].sort((a, b) => (a < b ? -1 : 1));
    const blocks = await Promise.all(numbers.map((blockNumber) => client.getBlock({ blockNumber })));
    for (const block of blocks) {
      const number = block.number;
      checkedBlocks.push(number);
      const chainHash = block.hash.toLowerCase() as Hex;
      const cachedHash = [...(byNumber.get(number) ?? [])].find((hash) => hash !== chainHash);
      if (cachedHash && !evidence) evidence = { kind: "hash", number, cachedHash: cachedHash as Hex, chainHash };
    }
  }
  if (!evidence) return { status: "consistent", checkedBlocks };

  const deleted = await database.transaction(async (tx) => {
    const counts: Record<string, number> = {};
    for (const table of CHAIN_TABLES) {
      const [row] = await tx.query(
        `WITH gone AS (DELETE FROM ponder_sync.${table} WHERE chain_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [chainId],
      );
      counts[table] = Number(row?.n ?? 0);
    }
    return counts;
  });

  const found =
    evidence.kind === "hash"
      ? `holds block ${evidence.number} with hash ${evidence.cachedHash}, but the chain's block ${evidence.number} has hash ${evidence.chainHash}`
      : `holds block ${evidence.number}, above the chain's head (block ${evidence.head})`;
  const counts = Object.entries(deleted)
    .filter(([, n]) => n > 0)
    .map(([table, n]) => `${n} ${table}`)
    .join(", ");
  const message =
    `Chain ${chainId} was reset: Ponder's sync cache (ponder_sync in ${database.description}) ${found}. ` +
    `Dropped every cached row of chain ${chainId} in one transaction (${counts || "no rows"}); Ponder fetches them again from the RPC.`;
  return { status: "dropped", evidence, deleted, message };
}
