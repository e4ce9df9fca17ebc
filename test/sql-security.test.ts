/**
 * SQL over HTTP is read-only, layer by layer (src/api/sql-guard.ts):
 * 1. the policy (src/api/sql-policy.ts), uncached, on the whole parse tree;
 * 2. Ponder's verdict caches keyed by the full hash (patches/ponder+0.16.10.patch);
 * 3. a read-only transaction over the extended protocol (src/api/sql-exec.ts), on both databases;
 * 4. on PostgreSQL, a role that may only read.
 * Each layer is attacked on its own, then the whole API with fresh hash-collision pairs.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectRoot } from "../scripts/lib/chama";
import { seedDemo } from "../scripts/seed";
import { SqlExecutionError, assertReadOnlyRole, pgliteExecutor, postgresExecutor, prepareReadRole } from "../src/api/sql-exec";
import { MAX_SQL_LENGTH, judgeSql } from "../src/api/sql-policy";
import { type Chain, databases, deploy, postgresUrl, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";
import { type Collider, createCollider, sameCacheKey } from "./_support/sql-collisions";

const TABLES = new Set(["chama", "contribution", "payout", "member", "account", "chama_day", "_ponder_checkpoint"]);

/** The writes an attacker tries, and what the policy answers to each. */
const ATTACKS: { sql: string; status: number; message: string }[] = [
  { sql: "DELETE FROM payout", status: 400, message: "DELETE is not a read; only a single SELECT is allowed." },
  { sql: "UPDATE chama SET name = 'pwned'", status: 400, message: "UPDATE is not a read; only a single SELECT is allowed." },
  { sql: "COMMENT ON TABLE chama IS 'pwned'", status: 400, message: "COMMENT is not a read; only a single SELECT is allowed." },
  { sql: "COMMIT; BEGIN READ WRITE; TRUNCATE payout; COMMIT", status: 400, message: "The query holds 4 statements; send exactly one SELECT." },
  { sql: "SET statement_timeout = 0", status: 400, message: "SET is not a read; only a single SELECT is allowed." },
  {
    sql: "WITH gone AS (DELETE FROM payout RETURNING *) SELECT count(*) FROM gone",
    status: 400,
    message: "A CTE whose body is DELETE is not a read; CTEs must be SELECTs.",
  },
];

describe("the SQL policy (layer 1)", () => {
  test.each([
    "SELECT * FROM chama",
    "SELECT chama_id, sum(amount) AS total FROM contribution WHERE chama_id = $1 GROUP BY chama_id ORDER BY total DESC LIMIT 5",
    "SELECT id FROM chama UNION SELECT chama_id FROM payout EXCEPT SELECT 0",
    "WITH top AS (SELECT chama_id, count(*) AS n FROM member GROUP BY chama_id) SELECT c.name, t.n FROM chama c JOIN top t ON t.chama_id = c.id",
    "SELECT (SELECT max(amount) FROM contribution) AS biggest, extract(epoch FROM now()) AS t",
    "SELECT block_number FROM _ponder_checkpoint",
  ])("admits a read: %s", async (sql) => {
    const verdict = await judgeSql(sql, TABLES);
    expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
  });

  test.each([
    ...ATTACKS,
    { sql: "INSERT INTO account (id) VALUES ('0x00')", status: 400, message: "INSERT is not a read; only a single SELECT is allowed." },
    { sql: "DROP TABLE chama", status: 400, message: "DROP is not a read; only a single SELECT is allowed." },
    { sql: "SELECT 1; DELETE FROM contribution", status: 400, message: "The query holds 2 statements; send exactly one SELECT." },
    { sql: "SELECT * INTO stolen FROM chama", status: 400, message: "SELECT ... INTO writes a table; it is not allowed." },
    { sql: "SELECT * FROM chama FOR UPDATE", status: 400, message: "Locking clauses (FOR UPDATE, FOR SHARE, ...) are not allowed in a read." },
    { sql: "SELECT * FROM (SELECT * FROM chama FOR SHARE) s", status: 400, message: "Locking clauses (FOR UPDATE, FOR SHARE, ...) are not allowed in a read." },
    { sql: "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", status: 400, message: "Recursive CTEs (WITH RECURSIVE) are not allowed." },
    { sql: "SELECT set_config('role', 'postgres', true)", status: 400, message: "The function set_config() is not allowed in SQL over HTTP." },
    { sql: "SELECT pg_catalog.pg_sleep(10)", status: 400, message: "The function pg_catalog.pg_sleep() is not allowed in SQL over HTTP." },
    { sql: "SELECT * FROM ponder_sync.logs", status: 400, message: "Schema-qualified names (ponder_sync.logs) are not allowed; name the table alone." },
    { sql: "SELECT * FROM pg_authid", status: 400, message: '"pg_authid" is not a table of this index. Query: chama, contribution, payout, member, account, chama_day, _ponder_checkpoint.' },
    { sql: "SELECT value FROM _ponder_meta", status: 403, message: "_ponder_meta is internal to the indexer and not queryable." },
    { sql: "SELECT * FROM _reorg__chama", status: 403, message: "_reorg__chama is internal to the indexer and not queryable." },
    { sql: `SELECT ${"1 + ".repeat(MAX_SQL_LENGTH / 4)}1`, status: 413, message: `characters long; the limit is ${MAX_SQL_LENGTH}.` },
  ])("refuses $sql", async ({ sql, status, message }) => {
    const verdict = await judgeSql(sql, TABLES);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.status).toBe(status);
    expect(verdict.message).toContain(message);
  });
});

describe("Ponder's SQL verdict cache (layer 2, patched)", () => {
  let collider: Collider;
  beforeAll(() => {
    collider = createCollider();
  }, 120_000);

  test("a write that shares a harmless SELECT's 40-bit key is still judged on its own", async () => {
    const module = pathToFileURL(path.join(projectRoot, "node_modules/ponder/dist/esm/utils/sql-parse.js")).href;
    const { validateAllowableSQLQuery } = (await import(module)) as { validateAllowableSQLQuery: (sql: string) => Promise<void> };
    for (const write of ["DELETE FROM payout", "UPDATE chama SET name = 'x'"]) {
      const pair = collider.collide(write);
      expect(sameCacheKey(pair.select, pair.other)).toBe(true);
      await expect(validateAllowableSQLQuery(pair.select)).resolves.toBeUndefined();
      await expect(validateAllowableSQLQuery(pair.other)).rejects.toThrow("not supported");
    }
    // And the other way: a cached refusal does not refuse a valid SELECT.
    const pair = collider.collide("SELECT * FROM pg_authid WHERE rolname = 'x'");
    await expect(validateAllowableSQLQuery(pair.other)).rejects.toThrow();
    await expect(validateAllowableSQLQuery(pair.select)).resolves.toBeUndefined();
  });
});

describe("the read-only executors (layers 3 and 4)", () => {
  const schema = "sql_exec_test";

  test("PGlite: a write sent straight to the executor is refused and changes nothing", async () => {
    const instance = await PGlite.create();
    try {
      await instance.exec(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.payout (id int primary key, amount numeric(78)); INSERT INTO ${schema}.payout VALUES (1, 10), (2, 20);`);
      const execute = pgliteExecutor({ instance, schema, timeoutMs: 5_000, maxRowVisits: 1_000_000, tables: ["payout"] });
      expect((await execute({ sql: "SELECT id, amount FROM payout ORDER BY id", params: [] })).rows).toEqual([
        { id: 1, amount: "10" },
        { id: 2, amount: "20" },
      ]);
      await expect(execute({ sql: "DELETE FROM payout", params: [] })).rejects.toMatchObject({ status: 403, message: "The query tried to change data; SQL over HTTP is read-only." });
      await expect(execute({ sql: "COMMENT ON TABLE payout IS 'x'", params: [] })).rejects.toMatchObject({ status: 400, message: "Only a single SELECT can run here." });
      await expect(execute({ sql: "COMMIT; BEGIN READ WRITE; DELETE FROM payout; COMMIT", params: [] })).rejects.toMatchObject({ status: 400 });
      const rows = await instance.query(`SELECT id, amount::text FROM ${schema}.payout ORDER BY id`);
      expect(rows.rows).toEqual([
        { id: 1, amount: "10" },
        { id: 2, amount: "20" },
      ]);
      // The instance is left as it was for the indexer: no transaction open, writable.
      await instance.exec(`INSERT INTO ${schema}.payout VALUES (3, 30)`);
    } finally {
      await instance.close();
    }
  });

  test("PGlite: a query whose plan would visit more rows than the budget is refused before it runs", async () => {
    const instance = await PGlite.create();
    try {
      await instance.exec(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.contribution (id int primary key, chama_id int, amount numeric(78));`);
      await instance.exec(`INSERT INTO ${schema}.contribution SELECT g, g % 4, g * 1000 FROM generate_series(1, 60) g`);
      const execute = pgliteExecutor({ instance, schema, timeoutMs: 5_000, maxRowVisits: 1_000_000, tables: ["contribution"] });
      const cross = (n: number) => `SELECT count(*) AS n FROM ${Array.from({ length: n }, (_, i) => `contribution c${i}`).join(", ")}`;
      // 60^3 = 216,000 rows: within the budget, and answered.
      expect((await execute({ sql: cross(3), params: [] })).rows).toEqual([{ n: 216_000 }]);
      // 60^4 = 13 million: refused at once, naming the setting.
      const started = Date.now();
      await expect(execute({ sql: cross(4), params: [] })).rejects.toMatchObject({
        status: 400,
        message: expect.stringMatching(/^The query would visit about \d+\.\d million rows; on the embedded database \(PGlite\) SQL over HTTP allows 1,000,000 \(SQL_PGLITE_MAX_ROWS\)/),
      });
      expect(Date.now() - started).toBeLessThan(500);
      // A correlated subquery runs once per outer row, and is counted so: alone it is within
      // the budget, sixty times over it is not.
      const inner = "SELECT count(*) FROM contribution b, contribution c, contribution d WHERE b.amount > 0";
      await expect(execute({ sql: inner, params: [] })).resolves.toBeDefined();
      const correlated = `SELECT id, (${inner} AND b.amount > a.amount) AS n FROM contribution a`;
      await expect(execute({ sql: correlated, params: [] })).rejects.toMatchObject({ status: 400 });
      // Joins on keys and aggregates stay cheap.
      const keyed = await execute({ sql: "SELECT a.chama_id, sum(b.amount) AS total FROM contribution a JOIN contribution b ON a.id = b.id GROUP BY a.chama_id ORDER BY 1", params: [] });
      expect(keyed.rows).toHaveLength(4);
    } finally {
      await instance.close();
    }
  });

  test("PostgreSQL: a write is refused by the transaction, and by the role even without it", async () => {
    const admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
    const role = "jenga_sql_reader_test";
    const execute = postgresExecutor({ connectionString: postgresUrl(), schema, timeoutMs: 5_000, max: 2, applicationName: "sql_exec_test", readRole: role });
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.payout (id int primary key, amount numeric(78)); INSERT INTO ${schema}.payout VALUES (1, 10), (2, 20);`);
      await prepareReadRole({ pool: execute.pool, role, schema, tables: ["payout"] });

      expect((await execute({ sql: "SELECT id, amount FROM payout WHERE id = $1", params: [2] })).rows).toEqual([{ id: 2, amount: "20" }]);
      for (const sql of ["DELETE FROM payout", "TRUNCATE payout", "COMMENT ON TABLE payout IS 'x'"]) {
        await expect(execute({ sql, params: [] })).rejects.toBeInstanceOf(SqlExecutionError);
      }
      // The simple-query path that ran several statements is gone: one statement only.
      await expect(execute({ sql: "COMMIT; BEGIN READ WRITE; TRUNCATE payout; COMMIT", params: [] })).rejects.toMatchObject({ status: 400 });

      // Layer 4 alone: a read-write transaction as the reader role still cannot write.
      await admin.query("BEGIN READ WRITE");
      await admin.query(`SET LOCAL ROLE ${role}`);
      await expect(admin.query(`DELETE FROM ${schema}.payout`)).rejects.toThrow("permission denied");
      await admin.query("ROLLBACK");
      await expect(assertReadOnlyRole({ pool: execute.pool, role, schema })).resolves.toBeUndefined();
      // A role that could write is refused, naming what it could do.
      await expect(assertReadOnlyRole({ pool: execute.pool, schema })).rejects.toThrow(/SQL over HTTP is off: its database role "\w+" is a superuser/);

      expect((await admin.query(`SELECT id, amount::text FROM ${schema}.payout ORDER BY id`)).rows).toEqual([
        { id: 1, amount: "10" },
        { id: 2, amount: "20" },
      ]);
    } finally {
      await execute.close?.();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});

test("the README's analyst login can read the served tables and nothing else", async () => {
  const readme = readFileSync(path.join(projectRoot, "README.md"), "utf8");
  const [, analyst] = [...readme.matchAll(/```plpgsql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(analyst).toContain("CREATE ROLE jenga_analyst LOGIN");
  const schema = "jenga_readme_role";
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  const login = new URL(postgresUrl());
  login.username = "jenga_analyst";
  login.password = "choose-one";
  const execute = postgresExecutor({ connectionString: login.toString(), schema, timeoutMs: 5_000, max: 1, applicationName: "readme_role_test" });
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP ROLE IF EXISTS jenga_analyst`);
    await admin.query(`CREATE SCHEMA ${schema}`);
    for (const table of ["chama", "contribution", "payout", "member", "account", "chama_day", "_ponder_checkpoint"]) {
      await admin.query(`CREATE TABLE ${schema}.${table} (id int primary key)`);
    }
    await admin.query(`INSERT INTO ${schema}.payout VALUES (1)`);
    await admin.query(analyst!.replaceAll("jenga.", `${schema}.`).replace("SCHEMA jenga ", `SCHEMA ${schema} `));

    await expect(assertReadOnlyRole({ pool: execute.pool, schema })).resolves.toBeUndefined();
    expect((await execute({ sql: "SELECT id FROM payout", params: [] })).rows).toEqual([{ id: 1 }]);
    // Even in a read-write transaction of its own, the login cannot write.
    const direct = await execute.pool.connect();
    try {
      await direct.query("BEGIN READ WRITE");
      await expect(direct.query(`DELETE FROM ${schema}.payout`)).rejects.toThrow("permission denied");
      await direct.query("ROLLBACK");
    } finally {
      direct.release();
    }
  } finally {
    await execute.close?.();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP ROLE IF EXISTS jenga_analyst`);
    await admin.end();
  }
});

/** GET /sql/db or /sql/live the way @ponder/client does. */
async function sqlRequest(url: string, route: "db" | "live", sql: string): Promise<{ status: number; body: string }> {
  const controller = new AbortController();
  const response = await fetch(`${url}/sql/${route}?sql=${encodeURIComponent(superjson.stringify({ sql, params: [] }))}`, { signal: controller.signal });
  if (route === "live" && response.ok) {
    controller.abort();
    return { status: response.status, body: "" };
  }
  return { status: response.status, body: await response.text() };
}

for (const database of databases) {
  describe(`SQL over HTTP under attack (${database})`, () => {
    let chain: Chain;
    let indexer: Indexer;
    /** Fresh collision pairs, found before any request so no connection idles meanwhile. */
    const pairs = new Map<string, { select: string; other: string }>();

    /** Every table, as the API reads it: compared before and after each attack. */
    const dump = async () => {
      const out: Record<string, string> = {};
      for (const table of ["chama", "contribution", "payout", "member", "account", "chama_day"]) {
        const { status, body } = await sqlRequest(indexer.url, "db", `SELECT * FROM ${table} ORDER BY 1, 2`);
        expect(status, body).toBe(200);
        out[table] = body;
      }
      return out;
    };

    /** The API still answers promptly: health and a GraphQL read, each within a second. */
    const stillServing = async () => {
      const started = Date.now();
      expect((await fetch(`${indexer.url}/health`)).status).toBe(200);
      const ok = await indexer.graphql<{ payouts: { totalCount: number } }>("{ payouts { totalCount } }");
      expect(ok.data?.payouts.totalCount).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(1_000);
    };

    beforeAll(async () => {
      chain = await startChain();
      const { address, startBlock } = await deploy(chain);
      await seedDemo({ rpcUrl: chain.rpcUrl, address });
      indexer = await startIndexer({ chain, address, startBlock, database });
      await indexer.waitForBlock();
      const collider = createCollider();
      for (const { sql } of ATTACKS) pairs.set(sql, collider.collide(sql));
      pairs.set("refusal", collider.collide("SELECT * FROM pg_authid"));
    }, 240_000);
    afterAll(async () => {
      await indexer?.stop();
      await chain?.stop();
    });

    test.each(ATTACKS)("a colliding SELECT, then $sql: refused, every table unchanged", async ({ sql, status, message }) => {
      const before = await dump();
      expect(JSON.parse(before.payout!).rows.length).toBeGreaterThan(0);
      const pair = pairs.get(sql)!;
      for (const route of ["db", "live"] as const) {
        const select = await sqlRequest(indexer.url, route, pair.select);
        expect(select.status, select.body).toBe(200);
        const write = await sqlRequest(indexer.url, route, pair.other);
        expect(write).toEqual({ status, body: message });
      }
      expect(await dump()).toEqual(before);
      await stillServing();
    });

    test("a cached refusal does not refuse the SELECT that shares its key", async () => {
      const pair = pairs.get("refusal")!;
      for (const route of ["db", "live"] as const) {
        expect((await sqlRequest(indexer.url, route, pair.other)).status).toBe(400);
        const select = await sqlRequest(indexer.url, route, pair.select);
        expect(select.status, select.body).toBe(200);
      }
    });

    test("other methods and routes are refused with a status that says so", async () => {
      const post = await fetch(`${indexer.url}/sql/db?sql=x`, { method: "POST" });
      expect(post.status).toBe(405);
      expect(post.headers.get("allow")).toBe("GET");
      expect((await fetch(`${indexer.url}/sql/other`)).status).toBe(404);
      const missing = await fetch(`${indexer.url}/sql/db`);
      expect({ status: missing.status, body: await missing.text() }).toEqual({ status: 400, body: 'Missing "sql" query parameter.' });
    });

    if (database === "pglite") {
      test("a runaway query is refused before it runs: health answers and indexing goes on", async () => {
        // Five copies of the seeded contributions in one cross join: hundreds of millions of
        // rows, minutes of PGlite's only thread, which the indexer and /health share.
        const runaway = `SELECT count(*) FROM ${Array.from({ length: 5 }, (_, i) => `contribution c${i}`).join(", ")}`;
        const started = Date.now();
        const refused = await sqlRequest(indexer.url, "db", runaway);
        expect(refused.status).toBe(400);
        expect(refused.body).toMatch(/^The query would visit about [\d.]+ (million|billion) rows; on the embedded database \(PGlite\) SQL over HTTP allows 10,000,000 \(SQL_PGLITE_MAX_ROWS\)/);
        expect(Date.now() - started).toBeLessThan(1_000);
        await stillServing();
        // The indexer was never held up: a new block is indexed at once.
        await chain.testClient.mine({ blocks: 1 });
        await indexer.waitForBlock(undefined, 5_000);
        // Ordinary analysis still runs.
        const ok = await sqlRequest(indexer.url, "db", "SELECT c.name, count(*) AS n FROM contribution x JOIN chama c ON c.id = x.chama_id GROUP BY c.name");
        expect(ok.status, ok.body).toBe(200);
      });
    }

    if (database === "postgres") {
      test("queries run as the read-only role, which can only read the served tables", async () => {
        const admin = new pg.Client({ connectionString: indexer.storage.databaseUrl });
        await admin.connect();
        try {
          const { rows } = await admin.query(
            `SELECT has_table_privilege('jenga_sql_reader', format('%I.payout', $1::text), 'SELECT') AS reads,
                    has_table_privilege('jenga_sql_reader', format('%I.payout', $1::text), 'DELETE') AS deletes,
                    has_table_privilege('jenga_sql_reader', format('%I._ponder_meta', $1::text), 'SELECT') AS internal`,
            [indexer.schema],
          );
          expect(rows[0]).toEqual({ reads: true, deletes: false, internal: false });
        } finally {
          await admin.end();
        }
      });
    }
  });
}
