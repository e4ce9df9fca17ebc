/**
 * Client reconciliation: one whole pass of the web client's sync engine (the real SyncEngine
 * from web/src/sync/) for `pending` saved actions against `indexed` rows, all handed over
 * through its indexer port, against the naive search-in-a-loop on the same data. Both must give
 * the same outcome for every action. The pass runs on the browser's store, IdbActionStore, on
 * fake-indexeddb (Node has no IndexedDB; the time until its transaction has committed is timed
 * too), and for comparison on the earlier store, ActionStore on a localStorage stand-in (one
 * JSON text of every action). The engine's matching alone (`indexRowsByHash` +
 * `findIndexedRow`) is timed too.
 */
import "fake-indexeddb/auto";
import { type Address, type Hash, keccak256, toHex } from "viem";
import { LOCAL_CHAIN_ID, SAT } from "../common/chain";
import { SyncEngine } from "../web/src/sync/engine";
import { findIndexedRow, indexRowsByHash } from "../web/src/sync/matching";
import type { IndexerPort } from "../web/src/sync/ports";
import { IdbActionStore } from "../web/src/sync/idbStore";
import {
  ActionStore,
  DEFAULT_STORAGE_KEY,
  type KeyValueStorage,
  type PendingActionStore,
  memoryStorage,
  serializeActions,
} from "../web/src/sync/store";
import type { Action, ActionKind, ActionParams, IndexedRow } from "../web/src/sync/types";
import { FakeChain } from "../test/_support/fakes";
import { round } from "./lib/stats";
import { JengaError } from "../common/errors";

export type ReconcileResult = {
  pending: number;
  indexed: number;
  /** The store the figures below are for: the browser's, IndexedDB (fake-indexeddb in Node). */
  store: "indexeddb";
  /** One whole SyncEngine pass resuming the saved actions, best of 5: matching plus the store
   * update it makes (applied to the working copy, its transaction issued). */
  ms: number;
  /** From the same start until the pass's transaction has committed (`flush()`), same run. */
  commitMs: number;
  /** Records the pass wrote, and transactions. */
  recordsWritten: number;
  transactions: number;
  /** The naive search-in-a-loop (matching only), same data, one run. */
  naiveMs: number;
  /** CPU time of that pass (least of the runs). */
  cpuMs: number;
  /** Actions the pass reconciled (every one the naive search matches). */
  reconciled: number;
  /** Storage writes and store notifications the pass made. */
  saves: number;
  notifications: number;
  /** The next pass, live: the other half's rows indexed, on a store that has saved already. */
  livePassMs: number;
  liveCpuMs: number;
  liveCommitMs: number;
  liveRecordsWritten: number;
  /** The same passes on the earlier store (ActionStore, one localStorage text), same run. */
  localStorage: { ms: number; cpuMs: number; livePassMs: number; liveCpuMs: number };
  /** The engine's matching alone (`indexRowsByHash` + `findIndexedRow`), best of 5. */
  matchMs: number;
};

const ACCOUNT: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const CHAIN_ID = LOCAL_CHAIN_ID;

function hashOf(i: number): Hash {
  return keccak256(toHex(i));
}

/** Row `i` as ponderIndexer delivers it: lowercase hash and address, bigints; one chama per
 * 100 rows (no log index), one payout per 100, the rest contributions. */
function rowAt(i: number): IndexedRow {
  const kind: ActionKind = i % 100 === 0 ? "createChama" : i % 100 === 50 ? "payout" : "contribution";
  return {
    kind,
    transactionHash: hashOf(i),
    logIndex: kind === "createChama" ? undefined : i % 500,
    blockNumber: BigInt(1 + Math.floor(i / 500)),
    chamaId: BigInt(1 + (i % 1_000)),
    account: ACCOUNT.toLowerCase() as Address,
    amount: 1_000n * SAT + BigInt(i),
    name: kind === "createChama" ? `Chama ${i}` : undefined,
  };
}

function paramsFor(row: IndexedRow): ActionParams {
  switch (row.kind) {
    case "createChama":
      return { kind: "createChama", name: row.name!, contributionAmount: row.amount! };
    case "contribution":
      return { kind: "contribution", chamaId: row.chamaId, amount: row.amount! };
    case "payout":
      return { kind: "payout", chamaId: row.chamaId, recipient: ACCOUNT, amount: row.amount! };
  }
}

/**
 * `pending` confirmed actions as the engine stores them (receipt seen, log index known). Even
 * ones are indexed, spread through the rows; every tenth of those was sped up (its first hash
 * never landed, its second did). Odd ones are not indexed yet.
 */
function makeData(params: { pending: number; indexed: number; now: number }): { rows: IndexedRow[]; actions: Action[] } {
  const rows = Array.from({ length: params.indexed }, (_, i) => rowAt(i));
  const step = Math.max(1, Math.floor(params.indexed / params.pending));
  const actions = Array.from({ length: params.pending }, (_, i): Action => {
    const row = i % 2 === 0 ? rows[(i * step) % params.indexed]! : rowAt(params.indexed + i);
    const hashes = i % 20 === 0 ? [hashOf(params.indexed + params.pending + i), row.transactionHash] : [row.transactionHash];
    return {
      id: `action-${i}`,
      chainId: CHAIN_ID,
      account: ACCOUNT,
      params: paramsFor(row),
      status: "confirmed",
      createdAt: params.now + i,
      updatedAt: params.now + i,
      hash: hashes.at(-1),
      hashes,
      blockNumber: row.blockNumber,
      logIndex: row.logIndex,
    };
  });
  return { rows, actions };
}

/** The engine's matching, as one pass runs it: the rows of the actions' transactions grouped
 * once, one lookup per action. */
function matchWithEngine(params: { actions: readonly Action[]; rows: readonly IndexedRow[] }): (IndexedRow | undefined)[] {
  const hashes = new Set(params.actions.flatMap((action) => action.hashes.map((hash) => hash.toLowerCase())));
  const byHash = indexRowsByHash({ rows: params.rows, hashes });
  return params.actions.map((action) => findIndexedRow({ action, byHash }));
}

/** The naive reference: a linear search of the rows for each hash of each action (rows come
 * lowercase from the API), same rule for kind and log index. */
export function findIndexedRowNaive(params: { action: Action; rows: readonly IndexedRow[] }): IndexedRow | undefined {
  const { action, rows } = params;
  for (const hash of action.hashes) {
    const lower = hash.toLowerCase();
    const match = rows.find(
      (row) =>
        row.transactionHash === lower &&
        row.kind === action.params.kind &&
        (action.logIndex === undefined || row.logIndex === undefined || row.logIndex === action.logIndex),
    );
    if (match) return match;
  }
  return undefined;
}

/** Best of `runs` timings of `fn`, in ms. */
function best(runs: number, fn: () => unknown): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

export class ReconcileMismatchError extends JengaError {
  override name = "ReconcileMismatchError";
}

/** An indexer port that hands over the whole index on every fetch, so the engine's pass matches
 * against all of it (the GraphQL query would send only the rows of the asked-for transactions). */
function wholeIndex(index: { rows: IndexedRow[] }): IndexerPort {
  return {
    fetchRows: async () => index.rows,
    subscribe: () => () => undefined,
    readIndexedBlock: async () => {
      const number = index.rows.reduce((max, row) => (row.blockNumber > max ? row.blockNumber : max), 0n);
      return { number, timestamp: number };
    },
  };
}

/** Storage that counts its writes (each is one `storage` event in every other tab). */
function countingStorage(): KeyValueStorage & { writes: number } {
  const inner = memoryStorage();
  const storage = {
    writes: 0,
    getItem: (key: string) => inner.getItem(key),
    setItem: (key: string, value: string) => {
      storage.writes++;
      inner.setItem(key, value);
    },
  };
  return storage;
}

/** Wall time and this process's CPU time (all its threads, GC included) of the fastest run;
 * the CPU time is the least of the runs, and is what a busy shared machine disturbs least.
 * `commitMs`: wall time until the store's writes committed; `saves`: storage writes
 * (transactions for IndexedDB), `records`: action records written. */
type PassOutcome = { ms: number; cpuMs: number; commitMs: number; reconciled: number; saves: number; records: number; notifications: number };

/** The run with the least wall time, with the least CPU time of all runs. */
function fastest(runs: readonly PassOutcome[]): PassOutcome {
  const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { ...best, cpuMs: Math.min(...runs.map((run) => run.cpuMs)) };
}

/** A store loaded with the saved actions, as a page finds them on load, with its write count. */
type SavedStore = { store: PendingActionStore; writes: () => { saves: number; records: number }; close: () => Promise<void> };

/** The earlier store: one localStorage text holding every action. */
function savedLocalStorage(saved: string): SavedStore {
  const storage = countingStorage();
  storage.setItem(DEFAULT_STORAGE_KEY, saved);
  storage.writes = 0;
  const store = new ActionStore({ storage, now: Date.now });
  let records = 0;
  store.subscribe(() => undefined);
  return {
    store,
    writes: () => {
      // Each save rewrites every action.
      records = storage.writes * store.list().length;
      return { saves: storage.writes, records };
    },
    close: async () => undefined,
  };
}

let dbRuns = 0;

/** The browser's store on fake-indexeddb: a fresh database holding the saved actions (moved in
 * from the earlier store's text, as a first load does), then opened again as a page load. */
async function savedIndexedDb(saved: string): Promise<SavedStore> {
  const dbName = `jenga-actions-bench-${process.pid}-${++dbRuns}`;
  const legacy = memoryStorage();
  legacy.setItem(DEFAULT_STORAGE_KEY, saved);
  const first = new IdbActionStore({
    now: Date.now,
    dbName,
    legacy: { storage: { getItem: legacy.getItem, removeItem: (key) => void legacy.data.delete(key) } },
  });
  await first.loading();
  if (first.list().length === 0 || first.notices().length > 0) throw new ReconcileMismatchError(`the saved actions did not load: ${JSON.stringify(first.notices())}`);
  await first.close();
  const store = new IdbActionStore({ now: Date.now, dbName });
  await store.loading();
  const base = { saves: store.transactions, records: store.recordsWritten };
  return {
    store,
    writes: () => ({ saves: store.transactions - base.saves, records: store.recordsWritten - base.records }),
    close: async () => {
      await store.close();
      await new Promise<void>((resolve, reject) => {
        const request = indexedDB.deleteDatabase(dbName);
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error ?? new Error(`cannot delete ${dbName}`));
      });
    },
  };
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Throws unless every action is as the naive search says: reconciled with its row's values,
 * or (no row) untouched. Returns how many are reconciled. */
function checkOutcome(params: { store: PendingActionStore; before: readonly Action[]; naive: readonly (IndexedRow | undefined)[] }): number {
  let reconciled = 0;
  params.before.forEach((before, i) => {
    const after = params.store.get(before.id);
    const row = params.naive[i];
    const same = row
      ? after?.status === "reconciled" &&
        after.hash === row.transactionHash &&
        after.blockNumber === row.blockNumber &&
        after.logIndex === (row.logIndex ?? before.logIndex) &&
        after.indexed?.amount === row.amount &&
        after.discrepancies === undefined
      : after?.status === before.status && after.updatedAt === before.updatedAt;
    if (!same) {
      throw new ReconcileMismatchError(`after the engine pass ${before.id} is ${after?.status ?? "missing"}; the naive search ${row ? "matches" : "does not match"} it`);
    }
    if (row) reconciled++;
  });
  return reconciled;
}

/**
 * Times whole engine passes, best of `runs`, each run on a fresh store loaded (outside the
 * clock) with the saved actions, with rows freshly decoded as a fetch would give them:
 * - resume: `start()` on the saved actions (chain head, nonce checks, receipt watches, the
 *   fetch, the matching, one store update with its write and notification, timers);
 * - live: the next pass, once the rows of the other actions are indexed too, on a store that
 *   has written this session.
 * `commitMs` runs on from the same start until the store's `flush()` resolves. Every action's
 * outcome is checked against the naive search after each.
 */
async function timeEnginePasses(params: {
  open: () => SavedStore | Promise<SavedStore>;
  actions: Action[];
  rows: IndexedRow[];
  laterRows: IndexedRow[];
  naive: (IndexedRow | undefined)[];
  naiveLater: (IndexedRow | undefined)[];
  runs: number;
}): Promise<{ resume: PassOutcome; live: PassOutcome }> {
  const resumes: PassOutcome[] = [];
  const lives: PassOutcome[] = [];
  for (let run = 0; run < params.runs; run++) {
    const saved = await params.open();
    const store = saved.store;
    let notifications = 0;
    store.subscribe(() => notifications++);
    const index = { rows: structuredClone(params.rows) };
    const engine = new SyncEngine({ store, chain: new FakeChain(), indexer: wholeIndex(index) });

    const timed = async (pass: () => Promise<void>, before: readonly Action[], naive: (IndexedRow | undefined)[]): Promise<PassOutcome> => {
      notifications = 0;
      const writesBefore = saved.writes();
      const cpu = process.cpuUsage();
      const started = performance.now();
      await pass();
      const ms = performance.now() - started;
      const cpuMs = cpuMsSince(cpu);
      await store.flush();
      const commitMs = performance.now() - started;
      const writes = saved.writes();
      return {
        ms,
        cpuMs,
        commitMs,
        reconciled: checkOutcome({ store, before, naive }),
        saves: writes.saves - writesBefore.saves,
        records: writes.records - writesBefore.records,
        notifications,
      };
    };
    resumes.push(await timed(() => engine.start(), params.actions, params.naive));
    const before = new Map(store.list().map((action) => [action.id, action]));
    index.rows = structuredClone([...params.rows, ...params.laterRows]);
    lives.push(await timed(() => engine.nudge(), params.actions.map((action) => before.get(action.id)!), params.naiveLater));
    engine.stop();
    await saved.close();
  }
  return { resume: fastest(resumes), live: fastest(lives) };
}

export async function runReconcile(params: { pending: number; indexed: number; log: (line: string) => void }): Promise<ReconcileResult> {
  const { rows, actions } = makeData({ pending: params.pending, indexed: params.indexed, now: Date.now() });
  const naiveStarted = performance.now();
  const naive = actions.map((action) => findIndexedRowNaive({ action, rows }));
  const naiveMs = performance.now() - naiveStarted;
  const fast = matchWithEngine({ actions, rows });
  const matched = fast.filter(Boolean).length;
  const differ = fast.findIndex((row, i) => row !== naive[i]);
  if (differ !== -1 || matched !== Math.ceil(params.pending / 2)) {
    throw new ReconcileMismatchError(
      `the engine matched ${matched} of ${params.pending} (expected ${Math.ceil(params.pending / 2)})` +
        (differ === -1 ? "" : `; it differs from the naive search at ${actions[differ]!.id}`),
    );
  }
  const matchMs = best(5, () => matchWithEngine({ actions, rows }));
  // Later, the rows of the actions that were not indexed yet arrive: every action then matches
  // (found by hash here; the naive search is timed once above).
  const laterRows = actions.flatMap((_, i) => (i % 2 === 1 ? [rowAt(params.indexed + i)] : []));
  const laterByHash = new Map(laterRows.map((row) => [row.transactionHash, row]));
  const naiveLater = actions.map((action, i) => naive[i] ?? laterByHash.get(action.hashes.at(-1)!));
  const saved = serializeActions(actions);
  const common = { actions, rows, laterRows, naive, naiveLater, runs: 5 };
  const idb = await timeEnginePasses({ ...common, open: () => savedIndexedDb(saved) });
  const local = await timeEnginePasses({ ...common, open: () => savedLocalStorage(saved) });
  const { resume, live } = idb;
  const describe = (name: string, r: { resume: PassOutcome; live: PassOutcome }) =>
    `${name}: engine pass ${r.resume.ms.toFixed(1)} ms (cpu ${r.resume.cpuMs.toFixed(1)}, committed at ${r.resume.commitMs.toFixed(1)}) on resume ` +
    `(${r.resume.reconciled} reconciled, ${r.resume.saves} write(s) of ${r.resume.records} record(s), ${r.resume.notifications} notification), ` +
    `${r.live.ms.toFixed(1)} ms (cpu ${r.live.cpuMs.toFixed(1)}, committed at ${r.live.commitMs.toFixed(1)}) live ` +
    `(${r.live.reconciled - r.resume.reconciled} more, ${r.live.saves} write(s) of ${r.live.records} record(s), ${r.live.notifications} notification)`;
  params.log(`  reconcile: ${params.pending} pending vs ${params.indexed} indexed; ${describe("IndexedDB store (fake-indexeddb)", idb)}`);
  params.log(`  reconcile: ${describe("earlier localStorage store", local)}; matching alone ${matchMs.toFixed(1)} ms; naive ${naiveMs.toFixed(0)} ms`);
  return {
    pending: params.pending,
    indexed: params.indexed,
    store: "indexeddb",
    ms: round(resume.ms, 1),
    commitMs: round(resume.commitMs, 1),
    recordsWritten: resume.records,
    transactions: resume.saves,
    naiveMs: round(naiveMs),
    reconciled: resume.reconciled,
    saves: resume.saves,
    notifications: resume.notifications,
    cpuMs: round(resume.cpuMs, 1),
    livePassMs: round(live.ms, 1),
    liveCpuMs: round(live.cpuMs, 1),
    liveCommitMs: round(live.commitMs, 1),
    liveRecordsWritten: live.records,
    localStorage: {
      ms: round(local.resume.ms, 1),
      cpuMs: round(local.resume.cpuMs, 1),
      livePassMs: round(local.live.ms, 1),
      liveCpuMs: round(local.live.cpuMs, 1),
    },
    matchMs: round(matchMs, 1),
  };
}
