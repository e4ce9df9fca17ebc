/**
 * The ledger's storage, beside the index and never inside Ponder's schemas (a reorg rollback, a
 * crash recovery or a rebuild of the index never touches it): on PostgreSQL its own schema in
 * DATABASE_URL's database, with the embedded default its own PGlite directory. Versioned
 * migrations in `<schema>.migrations`; `transactions` holds one row per transaction hash and
 * `transitions` the append-only audit trail of every change.
 */
import { mkdirSync } from "node:fs";
import pg from "pg";
import type { Address, Hash, Hex } from "viem";
import { JengaError } from "../common/errors";
import type { LedgerFailureReason, LedgerHealth, LedgerKind, LedgerOrigin, LedgerStatus, LedgerTransaction, LedgerTransition } from "../common/ledger-api";

type Row = Record<string, unknown>;
type Query = (text: string, values?: unknown[]) => Promise<Row[]>;

/** One connection to the ledger's database: queries, a transaction, close. */
export type LedgerSql = {
  query: Query;
  transaction: <T>(fn: (query: Query) => Promise<T>) => Promise<T>;
  close: () => Promise<void>;
  /** "PostgreSQL schema jenga_ledger" or "PGlite at .ponder/ledger", for log lines. */
  description: string;
};

/** The ledger's database could not be opened or migrated. */
export class LedgerStorageError extends JengaError {
  override name = "LedgerStorageError";
}

/** A change the state machine does not allow (a bug in the caller, never a user's input). */
export class LedgerTransitionError extends JengaError {
  override name = "LedgerTransitionError";
}

/** Opens the ledger's database: a pool on PostgreSQL, or the ledger's own PGlite directory. */
export async function openLedgerSql(params: { databaseUrl: string | undefined; schema: string; pgliteDirectory: string }): Promise<LedgerSql> {
  if (params.databaseUrl) {
    const pool = new pg.Pool({ connectionString: params.databaseUrl, max: 4, application_name: "jenga-ledger", statement_timeout: 30_000 });
    pool.on("error", () => undefined);
    return {
      description: `PostgreSQL schema ${params.schema}`,
      query: async (text, values) => (await pool.query(text, values)).rows as Row[],
      transaction: async (fn) => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const result = await fn(async (text, values) => (await client.query(text, values)).rows as Row[]);
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  }
  mkdirSync(params.pgliteDirectory, { recursive: true });
  const { PGlite } = await import("@electric-sql/pglite");
  const db = new PGlite(params.pgliteDirectory);
  await db.waitReady;
  return {
    description: `PGlite at ${params.pgliteDirectory}`,
    query: async (text, values) => (await db.query<Row>(text, values)).rows,
    transaction: async <T>(fn: (query: Query) => Promise<T>) => (await db.transaction((tx) => fn(async (text, values) => (await tx.query<Row>(text, values)).rows))) as T,
    close: () => db.close(),
  };
}

/** The versioned migrations, in order; each runs once, in a transaction, and is recorded. */
export function ledgerMigrations(schema: string): { version: number; name: string; sql: string[] }[] {
  const s = `"${schema}"`;
  return [
    {
      version: 1,
      name: "transactions and transitions",
      sql: [
        `CREATE TABLE ${s}.transactions (
          seq bigserial UNIQUE NOT NULL,
          hash text PRIMARY KEY,
          chain_id integer NOT NULL,
          from_address text NOT NULL,
          nonce bigint NOT NULL,
          to_address text NOT NULL,
          kind text NOT NULL CHECK (kind IN ('createChama', 'contribution', 'payout')),
          chama_id numeric(78),
          amount numeric(78) NOT NULL,
          recipient text,
          name text,
          raw text,
          status text NOT NULL CHECK (status IN ('draft', 'pending', 'confirmed', 'reconciled', 'failed', 'replaced', 'dropped')),
          origin text NOT NULL CHECK (origin IN ('relay', 'wallet', 'chain')),
          block_number bigint,
          block_hash text,
          error_reason text,
          error_message text,
          replaced_by text,
          rebroadcasts integer NOT NULL DEFAULT 0,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          sent_at timestamptz
        )`,
        `CREATE INDEX transactions_status_idx ON ${s}.transactions (status, seq)`,
        `CREATE INDEX transactions_chama_idx ON ${s}.transactions (chama_id, seq)`,
        `CREATE INDEX transactions_from_idx ON ${s}.transactions (from_address, seq)`,
        `CREATE TABLE ${s}.transitions (
          id bigserial PRIMARY KEY,
          hash text NOT NULL REFERENCES ${s}.transactions (hash),
          from_status text,
          to_status text NOT NULL,
          cause text NOT NULL,
          at timestamptz NOT NULL
        )`,
        `CREATE INDEX transitions_hash_idx ON ${s}.transitions (hash, id)`,
        `CREATE INDEX transitions_to_idx ON ${s}.transitions (to_status, at)`,
        // The audit trail is append-only: the database itself refuses to change or delete it.
        `CREATE FUNCTION ${s}.transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'the ledger''s transitions are append-only'; END $$`,
        `CREATE TRIGGER transitions_append_only BEFORE UPDATE OR DELETE ON ${s}.transitions
          FOR EACH ROW EXECUTE FUNCTION ${s}.transitions_append_only()`,
      ],
    },
    {
      version: 2,
      name: "cursors, and records by sender and nonce",
      sql: [
        // How far the follower has looked through the index for transactions nobody announced.
        `CREATE TABLE ${s}.cursors (name text PRIMARY KEY, block bigint NOT NULL, updated_at timestamptz NOT NULL)`,
        `CREATE INDEX transactions_nonce_idx ON ${s}.transactions (from_address, nonce)`,
      ],
    },
  ];
}

/** Creates the schema and runs every migration not yet applied. Safe with several processes on
 * one PostgreSQL: the migrations run under a transaction-scoped advisory lock. */
export async function migrateLedger(params: { sql: LedgerSql; schema: string }): Promise<number[]> {
  const s = `"${params.schema}"`;
  const applied: number[] = [];
  await params.sql.transaction(async (query) => {
    await query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`jenga-ledger-migrate:${params.schema}`]);
    await query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await query(`CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await query(`SELECT version FROM ${s}.migrations`)).map((r) => Number(r.version)));
    for (const migration of ledgerMigrations(params.schema)) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.sql) await query(statement);
      await query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
  });
  return applied;
}

/** A record as the server holds it: bigints and Dates. */
export type LedgerRecord = {
  seq: bigint;
  hash: Hash;
  chainId: number;
  from: Address;
  nonce: number;
  to: Address;
  kind: LedgerKind;
  chamaId: bigint | null;
  amount: bigint;
  recipient: Address | null;
  name: string | null;
  raw: Hex | null;
  status: LedgerStatus;
  origin: LedgerOrigin;
  blockNumber: bigint | null;
  blockHash: Hash | null;
  error: { reason: LedgerFailureReason; message: string } | null;
  replacedBy: Hash | null;
  rebroadcasts: number;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
};

/** What intake writes for a new record. */
export type NewLedgerRecord = Pick<LedgerRecord, "hash" | "chainId" | "from" | "nonce" | "to" | "kind" | "chamaId" | "amount" | "recipient" | "name" | "raw" | "status" | "origin"> & {
  sentAt?: Date | null;
  /** For a record created mined (origin "chain"). */
  blockNumber?: bigint | null;
  blockHash?: Hash | null;
};

/** Fields a transition may change besides the status. */
export type LedgerPatch = Partial<Pick<LedgerRecord, "chamaId" | "blockNumber" | "blockHash" | "error" | "replacedBy" | "sentAt" | "raw">> & {
  /** Adds one to `rebroadcasts`. */
  rebroadcast?: boolean;
};

/** The record's columns as toRecord reads them, optionally from a table alias (`r.`). */
const columns = (p = "") =>
  `${p}seq, ${p}hash, ${p}chain_id, ${p}from_address, ${p}nonce, ${p}to_address, ${p}kind, ${p}chama_id::text AS chama_id, ${p}amount::text AS amount, ${p}recipient,
  ${p}name, ${p}raw, ${p}status, ${p}origin, ${p}block_number::text AS block_number, ${p}block_hash, ${p}error_reason, ${p}error_message, ${p}replaced_by,
  ${p}rebroadcasts, ${p}created_at, ${p}updated_at, ${p}sent_at`;
const COLUMNS = columns();

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

function toRecord(row: Row): LedgerRecord {
  const nullable = <T>(v: unknown, f: (x: unknown) => T): T | null => (v === null || v === undefined ? null : f(v));
  return {
    seq: BigInt(String(row.seq)),
    hash: row.hash as Hash,
    chainId: Number(row.chain_id),
    from: row.from_address as Address,
    nonce: Number(row.nonce),
    to: row.to_address as Address,
    kind: row.kind as LedgerKind,
    chamaId: nullable(row.chama_id, (v) => BigInt(String(v))),
    amount: BigInt(String(row.amount)),
    recipient: (row.recipient as Address | null) ?? null,
    name: (row.name as string | null) ?? null,
    raw: (row.raw as Hex | null) ?? null,
    status: row.status as LedgerStatus,
    origin: row.origin as LedgerOrigin,
    blockNumber: nullable(row.block_number, (v) => BigInt(String(v))),
    blockHash: (row.block_hash as Hash | null) ?? null,
    error: row.error_reason ? { reason: row.error_reason as LedgerFailureReason, message: String(row.error_message ?? "") } : null,
    replacedBy: (row.replaced_by as Hash | null) ?? null,
    rebroadcasts: Number(row.rebroadcasts),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    sentAt: nullable(row.sent_at, toDate),
  };
}

function toTransition(row: Row): LedgerTransition {
  return { from: (row.from_status as LedgerStatus | null) ?? null, to: row.to_status as LedgerStatus, cause: String(row.cause), at: toDate(row.at).toISOString() };
}

function toChange(row: Row): LedgerChangeRow {
  return { id: BigInt(String(row.transition_id)), record: toRecord(row), transition: toTransition(row) };
}

/** A record as JSON (common/ledger-api.ts). */
export function recordJson(record: LedgerRecord): LedgerTransaction {
  return {
    hash: record.hash,
    chainId: record.chainId,
    from: record.from,
    nonce: record.nonce,
    to: record.to,
    kind: record.kind,
    chamaId: record.chamaId === null ? null : record.chamaId.toString(),
    amount: record.amount.toString(),
    recipient: record.recipient,
    name: record.name,
    status: record.status,
    origin: record.origin,
    blockNumber: record.blockNumber === null ? null : record.blockNumber.toString(),
    blockHash: record.blockHash,
    error: record.error,
    replacedBy: record.replacedBy,
    rebroadcasts: record.rebroadcasts,
    relayed: record.raw !== null,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    sentAt: record.sentAt === null ? null : record.sentAt.toISOString(),
  };
}

/** One transitions row with its record as it is now: what the push stream sends. */
export type LedgerChangeRow = { id: bigint; record: LedgerRecord; transition: LedgerTransition };

/** Filters of the list and the push stream. */
export type RecordFilter = { chamaId?: bigint; from?: Address };

export type ListParameters = { status?: LedgerStatus; chamaId?: bigint; from?: Address; limit: number; after?: bigint };

/** The ledger's tables, through one LedgerSql. Every change of a record and its transitions row
 * are written in one transaction. */
export class LedgerStore {
  readonly sql: LedgerSql;
  readonly schema: string;
  private readonly now: () => Date;
  private readonly t: string;
  private readonly tr: string;

  constructor(params: { sql: LedgerSql; schema: string; now?: () => Date }) {
    this.sql = params.sql;
    this.schema = params.schema;
    this.now = params.now ?? (() => new Date());
    this.t = `"${params.schema}".transactions`;
    this.tr = `"${params.schema}".transitions`;
  }

  /** Inserts a record unless its hash is already there (intake is idempotent by hash). Returns
   * the stored record and whether this call created it. */
  async insert(params: { record: NewLedgerRecord; cause: string }): Promise<{ record: LedgerRecord; created: boolean }> {
    const { record: r, cause } = params;
    const at = this.now();
    return this.sql.transaction(async (query) => {
      const inserted = await query(
        `INSERT INTO ${this.t} (hash, chain_id, from_address, nonce, to_address, kind, chama_id, amount, recipient, name, raw, status, origin, created_at, updated_at, sent_at,
           block_number, block_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17)
         ON CONFLICT (hash) DO NOTHING RETURNING hash`,
        [r.hash.toLowerCase(), r.chainId, r.from.toLowerCase(), r.nonce, r.to.toLowerCase(), r.kind, r.chamaId?.toString() ?? null, r.amount.toString(),
          r.recipient?.toLowerCase() ?? null, r.name, r.raw, r.status, r.origin, at, r.sentAt ?? null, r.blockNumber?.toString() ?? null, r.blockHash ?? null],
      );
      if (inserted.length > 0) {
        await query(`INSERT INTO ${this.tr} (hash, from_status, to_status, cause, at) VALUES ($1, NULL, $2, $3, $4)`, [r.hash.toLowerCase(), r.status, cause, at]);
      }
      const rows = await query(`SELECT ${COLUMNS} FROM ${this.t} WHERE hash = $1`, [r.hash.toLowerCase()]);
      return { record: toRecord(rows[0]!), created: inserted.length > 0 };
    });
  }

  /** Moves a record from `from` to `to` (the same for an event such as a rebroadcast) with the
   * patch, and appends the transitions row. Returns the updated record, or undefined when the
   * record is no longer in `from` (another writer moved it first: nothing is written). */
  async transition(params: { hash: Hash; from: LedgerStatus; to: LedgerStatus; cause: string; patch?: LedgerPatch }): Promise<LedgerRecord | undefined> {
    const { hash, from, to, cause, patch = {} } = params;
    const at = this.now();
    const sets: string[] = ["status = $3", "updated_at = $4"];
    const values: unknown[] = [hash.toLowerCase(), from, to, at];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if ("chamaId" in patch) set("chama_id", patch.chamaId?.toString() ?? null);
    if ("blockNumber" in patch) set("block_number", patch.blockNumber?.toString() ?? null);
    if ("blockHash" in patch) set("block_hash", patch.blockHash ?? null);
    if ("error" in patch) {
      set("error_reason", patch.error?.reason ?? null);
      set("error_message", patch.error?.message ?? null);
    }
    if ("replacedBy" in patch) set("replaced_by", patch.replacedBy ?? null);
    if ("sentAt" in patch) set("sent_at", patch.sentAt ?? null);
    if ("raw" in patch) set("raw", patch.raw ?? null);
    if (patch.rebroadcast) sets.push("rebroadcasts = rebroadcasts + 1");
    return this.sql.transaction(async (query) => {
      const rows = await query(`UPDATE ${this.t} SET ${sets.join(", ")} WHERE hash = $1 AND status = $2 RETURNING ${COLUMNS}`, values);
      if (rows.length === 0) return undefined;
      await query(`INSERT INTO ${this.tr} (hash, from_status, to_status, cause, at) VALUES ($1, $2, $3, $4, $5)`, [hash.toLowerCase(), from, to, cause, at]);
      return toRecord(rows[0]!);
    });
  }

  async get(hash: Hash): Promise<LedgerRecord | undefined> {
    const rows = await this.sql.query(`SELECT ${COLUMNS} FROM ${this.t} WHERE hash = $1`, [hash.toLowerCase()]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async transitions(hash: Hash): Promise<LedgerTransition[]> {
    const rows = await this.sql.query(`SELECT from_status, to_status, cause, at FROM ${this.tr} WHERE hash = $1 ORDER BY id`, [hash.toLowerCase()]);
    return rows.map(toTransition);
  }

  /** Newest first, `limit` at most, records older than `after` (a `seq`). */
  async list(params: ListParameters): Promise<LedgerRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      values.push(value);
      where.push(clause.replace("?", `$${values.length}`));
    };
    if (params.status) add("status = ?", params.status);
    if (params.chamaId !== undefined) add("chama_id = ?", params.chamaId.toString());
    if (params.from) add("from_address = ?", params.from.toLowerCase());
    if (params.after !== undefined) add("seq < ?", params.after.toString());
    values.push(params.limit);
    const rows = await this.sql.query(
      `SELECT ${COLUMNS} FROM ${this.t} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT $${values.length}`,
      values,
    );
    return rows.map(toRecord);
  }

  /** Which of these hashes the ledger holds (lowercase). */
  async known(hashes: Hash[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const rows = await this.sql.query(`SELECT hash FROM ${this.t} WHERE hash = ANY($1::text[])`, [hashes.map((h) => h.toLowerCase())]);
    return new Set(rows.map((r) => String(r.hash)));
  }

  /** Other records of the same sender and nonce (a replacement, or what it replaced). */
  async sameNonce(params: { from: Address; nonce: number; except: Hash }): Promise<LedgerRecord[]> {
    const rows = await this.sql.query(`SELECT ${COLUMNS} FROM ${this.t} WHERE from_address = $1 AND nonce = $2 AND hash <> $3 ORDER BY seq`, [
      params.from.toLowerCase(),
      params.nonce,
      params.except.toLowerCase(),
    ]);
    return rows.map(toRecord);
  }

  async cursor(name: string): Promise<bigint | undefined> {
    const [row] = await this.sql.query(`SELECT block::text AS block FROM "${this.schema}".cursors WHERE name = $1`, [name]);
    return row ? BigInt(String(row.block)) : undefined;
  }

  async setCursor(params: { name: string; block: bigint }): Promise<void> {
    await this.sql.query(
      `INSERT INTO "${this.schema}".cursors (name, block, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET block = excluded.block, updated_at = excluded.updated_at`,
      [params.name, params.block.toString(), this.now()],
    );
  }

  /** The newest transitions row's id (0 when there is none). */
  async lastChangeId(): Promise<bigint> {
    const [row] = await this.sql.query(`SELECT coalesce(max(id), 0)::text AS id FROM ${this.tr}`);
    return BigInt(String(row?.id ?? "0"));
  }

  /** Changes in id order: after `afterId`, or exactly `ids` (re-read for ids that were not yet
   * committed when a later one was), `limit` at most, with the filters. */
  async changes(params: RecordFilter & { afterId?: bigint; ids?: bigint[]; limit: number }): Promise<LedgerChangeRow[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      values.push(value);
      where.push(clause.replace("?", `$${values.length}`));
    };
    if (params.afterId !== undefined) add("tr.id > ?", params.afterId.toString());
    if (params.ids !== undefined) add("tr.id = ANY(?::bigint[])", params.ids.map(String));
    if (params.chamaId !== undefined) add("r.chama_id = ?", params.chamaId.toString());
    if (params.from) add("r.from_address = ?", params.from.toLowerCase());
    values.push(params.limit);
    const rows = await this.sql.query(
      `SELECT tr.id::text AS transition_id, tr.from_status, tr.to_status, tr.cause, tr.at, ${columns("r.")}
       FROM ${this.tr} tr JOIN ${this.t} r ON r.hash = tr.hash
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY tr.id LIMIT $${values.length}`,
      values,
    );
    return rows.map(toChange);
  }

  /** Every open record (draft, pending, confirmed) with the filters, each with its newest
   * transition, in the order of those transitions: how a fresh push stream starts. */
  async openChanges(params: RecordFilter & { limit: number }): Promise<LedgerChangeRow[]> {
    const where = ["r.status IN ('draft', 'pending', 'confirmed')"];
    const values: unknown[] = [];
    if (params.chamaId !== undefined) where.push(`r.chama_id = $${values.push(params.chamaId.toString())}`);
    if (params.from) where.push(`r.from_address = $${values.push(params.from.toLowerCase())}`);
    values.push(params.limit);
    const rows = await this.sql.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (r.hash) tr.id AS id_order, tr.id::text AS transition_id, tr.from_status, tr.to_status, tr.cause, tr.at, ${columns("r.")}
         FROM ${this.t} r JOIN ${this.tr} tr ON tr.hash = r.hash
         WHERE ${where.join(" AND ")} ORDER BY r.hash, tr.id DESC
       ) latest ORDER BY id_order LIMIT $${values.length}`,
      values,
    );
    return rows.map(toChange);
  }

  /** Records the follower still moves: every open one, reconciled ones mined at or after
   * `sinceBlock` (a reorg can still take them out), and ones that timed out in the last day (a
   * receipt may still come). */
  async watched(params: { sinceBlock: bigint }): Promise<LedgerRecord[]> {
    const rows = await this.sql.query(
      `SELECT ${COLUMNS} FROM ${this.t}
       WHERE status IN ('draft', 'pending', 'confirmed') OR (status = 'reconciled' AND block_number >= $1)
          OR (status = 'failed' AND error_reason = 'timeout' AND updated_at > $2)
       ORDER BY seq`,
      [params.sinceBlock.toString(), new Date(this.now().getTime() - 86_400_000)],
    );
    return rows.map(toRecord);
  }

  /** The records of these hashes that a follower pass can move (confirmed or reconciled), at any
   * height: what a reconciliation found the chain disagreeing with. */
  async settledByHash(hashes: string[]): Promise<LedgerRecord[]> {
    if (hashes.length === 0) return [];
    const rows = await this.sql.query(`SELECT ${COLUMNS} FROM ${this.t} WHERE status IN ('confirmed', 'reconciled') AND hash = ANY($1) ORDER BY seq`, [
      hashes.map((h) => h.toLowerCase()),
    ]);
    return rows.map(toRecord);
  }

  /** Records that timed out (failed with reason "timeout") at or after `since`, oldest first,
   * `limit` at most: what the stuck-actions alert lists. */
  async timedOutSince(params: { since: Date; limit: number }): Promise<LedgerRecord[]> {
    const rows = await this.sql.query(
      `SELECT ${COLUMNS} FROM ${this.t} WHERE status = 'failed' AND error_reason = 'timeout' AND updated_at >= $1 ORDER BY updated_at, seq LIMIT $2`,
      [params.since, params.limit],
    );
    return rows.map(toRecord);
  }

  /** The counts `/sync-health` shows. */
  async counts(): Promise<Omit<LedgerHealth, "lastPassAt" | "lastError" | "follower">> {
    const now = this.now();
    const [row] = await this.sql.query(
      `SELECT
         (SELECT count(*) FROM ${this.t} WHERE status = 'draft')::int AS drafts,
         (SELECT count(*) FROM ${this.t} WHERE status = 'pending')::int AS pending,
         (SELECT count(DISTINCT hash) FROM ${this.tr} WHERE to_status = 'failed' AND from_status IS DISTINCT FROM 'failed' AND at > $1)::int AS failed,
         (SELECT min(created_at) FROM ${this.t} WHERE status IN ('draft', 'pending')) AS oldest,
         (SELECT coalesce(sum(rebroadcasts), 0) FROM ${this.t})::int AS rebroadcasts`,
      [new Date(now.getTime() - 86_400_000)],
    );
    const oldest = row?.oldest === null || row?.oldest === undefined ? null : toDate(row.oldest);
    return {
      drafts: Number(row?.drafts ?? 0),
      pending: Number(row?.pending ?? 0),
      failedLast24h: Number(row?.failed ?? 0),
      oldestPendingSeconds: oldest === null ? null : Math.max(0, Math.round((now.getTime() - oldest.getTime()) / 1000)),
      rebroadcasts: Number(row?.rebroadcasts ?? 0),
    };
  }
}
