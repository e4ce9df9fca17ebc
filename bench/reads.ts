/**
 * Reads under load: the queries a Jenga page needs (chama list, chama detail with members and
 * recent contributions, account page), over GraphQL from the real indexer on PostgreSQL with
 * 10,000 chamas and 100,000 contributions, under `concurrency` concurrent clients (autocannon).
 * Reference: the same rows fetched with plain SQL through `pg`, same concurrency, same run.
 *
 * GraphQL runs twice with the same traffic: with `Cache-Control: no-cache`, which skips the
 * response cache (src/api/response-cache.ts), for the cost of executing every query; then as
 * the web app sends it, with the cache starting empty, for what clients get. Only repeated
 * (query, variables) pairs can hit: 50 list offsets, 10,000 chamas, 2,000 accounts. A short
 * uncached warm-up comes first.
 */
import autocannon from "autocannon";
import pg from "pg";
import { createDatabase } from "../test/_support/postgres";
import { type CachedChain, loadChain } from "./chain";
import { CACHE_HEADER } from "../src/api/response-cache";
import { counts, startBenchIndexer } from "./lib/indexer";
import { treeCpuMs } from "./lib/rss";
import { waitFor } from "../scripts/lib/processes";
import { percentile, round } from "./lib/stats";

export type ReadsResult = {
  query: string;
  concurrency: number;
  requestsPerSecond: number;
  p99Ms: number;
  sqlRequestsPerSecond: number;
  /** GraphQL with the response cache skipped: every request executed. */
  uncachedRequestsPerSecond: number;
  uncachedP99Ms: number;
  /** Share of the cached run's requests the cache answered. */
  cacheHitRatio: number;
  /** CPU time of the indexer process (which serves the API) per request, in ms. */
  cpuMsPerRequest: number;
  uncachedCpuMsPerRequest: number;
};

type Variables = Record<string, unknown>;

const WARM_UP_SECONDS = 3;

type ReadQuery = {
  name: string;
  graphql: string;
  variables: () => Variables;
  /** The same rows through plain SQL. */
  sql: (pool: pg.Pool, variables: Variables) => Promise<unknown>;
};

function queries(params: { schema: string; chamas: number; accounts: string[] }): ReadQuery[] {
  const s = `"${params.schema}"`;
  let n = 0;
  // Deterministic spread over every chama and account, different on each request.
  const nextChama = () => String(1 + ((n++ * 7919) % params.chamas));
  const nextAccount = () => params.accounts[n++ % params.accounts.length]!;
  return [
    {
      name: "chama list",
      graphql: `query($offset: Int) { chamas(orderBy: "createdAtBlock", orderDirection: "desc", limit: 20, offset: $offset) {
        items { id name creator contributionAmount totalContributed balance memberCount contributionCount createdAtBlock }
        pageInfo { hasNextPage endCursor } } }`,
      variables: () => ({ offset: (n++ % 50) * 20 }),
      sql: (pool, v) =>
        pool.query(
          `SELECT id, name, creator, contribution_amount, total_contributed, balance, member_count, contribution_count, created_at_block
           FROM ${s}.chama ORDER BY created_at_block DESC, id DESC LIMIT 21 OFFSET $1`,
          [v.offset],
        ),
    },
    {
      name: "chama detail",
      graphql: `query($id: BigInt!) { chama(id: $id) {
        id name creator contributionAmount totalContributed totalPaidOut balance memberCount contributionCount payoutCount
        members(orderBy: "totalContributed", orderDirection: "desc", limit: 20) { items { address totalContributed contributionCount lastContributionAt } }
        contributions(orderBy: "blockNumber", orderDirection: "desc", limit: 20) { items { id contributor amount timestamp transactionHash } } } }`,
      variables: () => ({ id: nextChama() }),
      sql: (pool, v) =>
        Promise.all([
          pool.query(
            `SELECT id, name, creator, contribution_amount, total_contributed, total_paid_out, balance, member_count, contribution_count, payout_count
             FROM ${s}.chama WHERE id = $1`,
            [v.id],
          ),
          pool.query(
            `SELECT address, total_contributed, contribution_count, last_contribution_at FROM ${s}.member
             WHERE chama_id = $1 ORDER BY total_contributed DESC LIMIT 21`,
            [v.id],
          ),
          pool.query(
            `SELECT id, contributor, amount, timestamp, transaction_hash FROM ${s}.contribution
             WHERE chama_id = $1 ORDER BY block_number DESC LIMIT 21`,
            [v.id],
          ),
        ]),
    },
    {
      name: "account page",
      graphql: `query($id: String!) { account(id: $id) {
        id totalContributed totalReceived contributionCount payoutCount chamaCount
        memberships(limit: 50) { items { chamaId totalContributed contributionCount chama { name } } }
        contributions(orderBy: "blockNumber", orderDirection: "desc", limit: 20) { items { chamaId amount timestamp transactionHash } } } }`,
      variables: () => ({ id: nextAccount() }),
      sql: (pool, v) =>
        Promise.all([
          pool.query(
            `SELECT id, total_contributed, total_received, contribution_count, payout_count, chama_count FROM ${s}.account WHERE id = $1`,
            [v.id],
          ),
          pool.query(
            `SELECT m.chama_id, m.total_contributed, m.contribution_count, c.name FROM ${s}.member m
             JOIN ${s}.chama c ON c.id = m.chama_id WHERE m.address = $1 LIMIT 51`,
            [v.id],
          ),
          pool.query(
            `SELECT chama_id, amount, timestamp, transaction_hash FROM ${s}.contribution
             WHERE contributor = $1 ORDER BY block_number DESC LIMIT 21`,
            [v.id],
          ),
        ]),
    },
  ];
}

/** Runs `work` from `concurrency` workers for `seconds`; requests/s and p99 latency. */
async function loadLoop(params: { concurrency: number; seconds: number; work: () => Promise<unknown> }) {
  const latencies: number[] = [];
  const deadline = performance.now() + params.seconds * 1000;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      await params.work();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: params.concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { requestsPerSecond: latencies.length / elapsed, p99Ms: percentile(latencies, 99) };
}

/** Drives GraphQL with autocannon: requests/s, p99 latency and the cache's hit ratio; throws on
 * any failed request. `uncached` sends Cache-Control: no-cache. */
async function graphqlLoad(params: { url: string; pid: number; query: ReadQuery; concurrency: number; seconds: number; uncached: boolean }) {
  let responses = 0;
  const cpuStart = treeCpuMs(params.pid);
  let hits = 0;
  const result = await autocannon({
    url: `${params.url}/graphql`,
    connections: params.concurrency,
    duration: params.seconds,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", ...(params.uncached ? { "cache-control": "no-cache" } : {}) },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ query: params.query.graphql, variables: params.query.variables() }),
        }),
        onResponse: (_status, _body, _context, headers) => {
          responses++;
          if (headers?.[CACHE_HEADER] === "hit") hits++;
        },
      },
    ],
  });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${params.query.name}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts under load`);
  }
  const cpuMs = treeCpuMs(params.pid) - cpuStart;
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    hitRatio: responses === 0 ? 0 : hits / responses,
    cpuMsPerRequest: responses === 0 ? 0 : cpuMs / responses,
  };
}

export async function runReads(params: {
  chain: CachedChain;
  postgresUrl: string;
  concurrency: number;
  seconds: number;
  /** Extra variables for the indexer. */
  env?: Record<string, string>;
  log: (line: string) => void;
}): Promise<ReadsResult[]> {
  const { chain, log } = params;
  const { meta } = chain;
  const anvil = await loadChain(chain);
  const database = await createDatabase({ clusterUrl: params.postgresUrl, prefix: "bench" });
  const pool = new pg.Pool({ connectionString: database.url, max: params.concurrency });
  // An idle client's error (the database dropped under it at teardown) is an event: keep it,
  // and fail the run only if it happened before the measurements were done.
  let poolError: Error | undefined;
  let measuring = true;
  pool.on("error", (error) => {
    if (measuring) poolError ??= error;
  });
  try {
    log(`  reads: indexing ${meta.counts.chamas} chamas and ${meta.counts.contributions} contributions on PostgreSQL`);
    const started = performance.now();
    const indexer = await startBenchIndexer({
      rpcUrl: anvil.rpcUrl, address: meta.address, startBlock: meta.startBlock, database: { kind: "postgres", url: database.url }, env: params.env,
    });
    try {
      await waitFor({
        what: "the reads data set to be indexed",
        timeoutMs: 900_000,
        intervalMs: 500,
        check: async () => {
          const block = await indexer.indexedBlock();
          if (block === undefined || block < meta.lastEventBlock) return undefined;
          const seen = await counts(indexer);
          return seen.contributions === meta.counts.contributions && seen.chamas === meta.counts.chamas ? true : undefined;
        },
      });
      log(`    indexed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const accounts = (await pool.query<{ id: string }>(`SELECT id FROM "${indexer.schema}".account ORDER BY id LIMIT 2000`)).rows.map((r) => r.id);
      const results: ReadsResult[] = [];
      for (const query of queries({ schema: indexer.schema, chamas: meta.counts.chamas, accounts })) {
        // Both paths must answer: one request each, checked, before the load.
        const variables = query.variables();
        await indexer.graphql(query.graphql, variables);
        await query.sql(pool, variables);

        // Unmeasured and uncached, so it warms the JIT but not the cache: otherwise whichever
        // pass runs first pays for compiling this query's code paths (about a third more CPU
        // per request measured here).
        await graphqlLoad({ url: indexer.url, pid: indexer.pid, query, concurrency: params.concurrency, seconds: WARM_UP_SECONDS, uncached: true });
        const cold = await graphqlLoad({ url: indexer.url, pid: indexer.pid, query, concurrency: params.concurrency, seconds: params.seconds, uncached: true });
        const gql = await graphqlLoad({ url: indexer.url, pid: indexer.pid, query, concurrency: params.concurrency, seconds: params.seconds, uncached: false });
        const sql = await loadLoop({ concurrency: params.concurrency, seconds: params.seconds, work: () => query.sql(pool, query.variables()) });
        log(
          `    ${query.name}: GraphQL uncached ${round(cold.requestsPerSecond)} req/s p99 ${round(cold.p99Ms)} ms ${cold.cpuMsPerRequest.toFixed(2)} CPU ms/req; ` +
            `cached ${round(gql.requestsPerSecond)} req/s p99 ${round(gql.p99Ms)} ms ${gql.cpuMsPerRequest.toFixed(2)} CPU ms/req (${Math.round(gql.hitRatio * 100)}% hits); ` +
            `SQL ${round(sql.requestsPerSecond)} req/s p99 ${round(sql.p99Ms)} ms; ratio ${(gql.requestsPerSecond / sql.requestsPerSecond).toFixed(2)}`,
        );
        results.push({
          query: query.name,
          concurrency: params.concurrency,
          requestsPerSecond: round(gql.requestsPerSecond),
          p99Ms: round(gql.p99Ms),
          sqlRequestsPerSecond: round(sql.requestsPerSecond),
          uncachedRequestsPerSecond: round(cold.requestsPerSecond),
          uncachedP99Ms: round(cold.p99Ms),
          cacheHitRatio: Math.round(gql.hitRatio * 1000) / 1000,
          cpuMsPerRequest: Math.round(gql.cpuMsPerRequest * 100) / 100,
          uncachedCpuMsPerRequest: Math.round(cold.cpuMsPerRequest * 100) / 100,
        });
      }
      if (poolError) throw new Error("A pooled SQL connection failed during the reads benchmark.", { cause: poolError });
      return results;
    } finally {
      measuring = false;
      await indexer.stop();
    }
  } finally {
    await pool.end();
    await database.drop();
    await anvil.stop();
  }
}
