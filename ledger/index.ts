/**
 * The transaction ledger in one object: its storage (migrated), the follower and intake, for
 * the API (src/api/transactions.ts) to mount. One per process: `ponder dev` executes the API
 * again on every edit, and a second PGlite on one directory would corrupt it.
 */
import type { Env, LedgerEnv } from "../config/env";
import { PONDER_FINALITY_BLOCKS } from "../common/chain";
import type { LedgerHealth } from "../common/ledger-api";
import { type LedgerChain, viemLedgerChain } from "./chain";
import { ChangeFeed } from "./feed";
import { Follower, type IndexedEvents, type IndexedLookup } from "./follower";
import { type Leadership, advisoryLeadership, soleLeadership } from "./leader";
import { RateLimiter } from "./intake";
import { type LedgerSql, LedgerStore, migrateLedger, openLedgerSql } from "./store";

export type Ledger = {
  store: LedgerStore;
  chain: LedgerChain;
  follower: Follower;
  /** New changes from the database, for the push streams. */
  feed: ChangeFeed;
  /** True while this process runs the follower (with replicas, exactly one does). */
  isLeader: () => boolean;
  perSender: RateLimiter;
  perClient: RateLimiter;
  settings: LedgerEnv;
  chamaAddress: Env["chamaAddress"];
  health: () => Promise<LedgerHealth>;
  close: () => Promise<void>;
};

const OPEN = Symbol.for("jenga.ledger.sql");
const processState = globalThis as { [OPEN]?: { key: string; sql: Promise<LedgerSql>; follower?: Follower; leadership?: Leadership; feed?: ChangeFeed } };

/** Opens (once per process) and migrates the ledger's database, then runs the follower while
 * this process leads (./leader.ts). */
export async function openLedger(params: { env: Env; settings: LedgerEnv; indexed: IndexedLookup; events?: IndexedEvents; chain?: LedgerChain; log?: (line: string) => void }): Promise<Ledger> {
  const { env, settings } = params;
  const key = `${env.databaseUrl ?? settings.pgliteDirectory}:${settings.schema}`;
  let state = processState[OPEN];
  if (!state || state.key !== key) {
    const sql = openLedgerSql({ databaseUrl: env.databaseUrl, schema: settings.schema, pgliteDirectory: settings.pgliteDirectory }).then(async (sql) => {
      await migrateLedger({ sql, schema: settings.schema });
      return sql;
    });
    state = { key, sql };
    processState[OPEN] = state;
  }
  await state.leadership?.stop();
  await state.follower?.stop();
  await state.feed?.close();
  const sql = await state.sql;
  const store = new LedgerStore({ sql, schema: settings.schema });
  const chain = params.chain ?? viemLedgerChain({ rpcUrl: env.rpcUrl, chainId: env.chainId });
  const follower = new Follower({
    store,
    chain,
    indexed: params.indexed,
    events: params.events,
    timeoutMs: settings.timeoutMs,
    pollIntervalMs: settings.pollIntervalMs,
    finalityBlocks: PONDER_FINALITY_BLOCKS,
    log: params.log,
  });
  const leadership = env.databaseUrl
    ? advisoryLeadership({ databaseUrl: env.databaseUrl, schema: settings.schema, retryMs: settings.leaderRetryMs, log: params.log })
    : soleLeadership();
  leadership.start((leader) => {
    if (leader) follower.start();
    else void follower.stop();
  });
  const feed = new ChangeFeed({ store, intervalMs: Math.min(settings.pollIntervalMs, 250), log: params.log });
  state.follower = follower;
  state.leadership = leadership;
  state.feed = feed;
  return {
    store,
    chain,
    follower,
    feed,
    isLeader: leadership.isLeader,
    perSender: new RateLimiter({ max: settings.maxPerSenderPerMinute, what: "sender", setting: "LEDGER_MAX_PER_SENDER_PER_MINUTE" }),
    perClient: new RateLimiter({ max: settings.maxPerClientPerMinute, what: "client", setting: "LEDGER_MAX_PER_CLIENT_PER_MINUTE" }),
    settings,
    chamaAddress: env.chamaAddress,
    health: async () => ({ ...(await store.counts()), lastPassAt: follower.lastPassAt?.toISOString() ?? null, lastError: follower.lastError, follower: leadership.isLeader() ? "leader" : "standby" }),
    close: async () => {
      await leadership.stop();
      await follower.stop();
      await feed.close();
    },
  };
}
