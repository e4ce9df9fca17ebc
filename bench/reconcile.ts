/**
 * Client reconciliation: the web client's own matching (`indexRowsByHash` + `findIndexedRow`
 * from web/src/sync/engine.ts, what each engine pass runs) for `pending` actions against
 * `indexed` rows, against the naive search-in-a-loop on the same data. Then one whole engine
 * pass (the real SyncEngine and ActionStore, rows through its indexer port), which also writes
 * every matched action to the store.
 */
import { type Address, type Hash, keccak256, toHex } from "viem";
import { SyncEngine, findIndexedRow, indexRowsByHash } from "../web/src/sync/engine";
import { ActionStore, DEFAULT_STORAGE_KEY, memoryStorage, serializeActions } from "../web/src/sync/store";
import type { Action, ActionKind, ActionParams, IndexedRow } from "../web/src/sync/types";
import { FakeChain, FakeIndexer } from "../test/sync/fakes";
import { round } from "./lib/stats";

export type ReconcileResult = {
  pending: number;
  indexed: number;
  ms: number;
  naiveMs: number;
  /** One SyncEngine pass over a smaller set: matching plus the store writes it makes. */
  enginePass: { pending: number; indexed: number; reconciled: number; ms: number };
};

const ACCOUNT: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const CHAIN_ID = 31337;

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
    amount: 1_000n * 10_000_000_000n + BigInt(i),
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

export class ReconcileMismatchError extends Error {
  override name = "ReconcileMismatchError";
}

/** Times one whole engine pass: `pending` saved actions resumed by `start()`, the rows served
 * through the indexer port (filtered by hash, as the GraphQL query is). Best of `runs`, each on
 * a fresh store. */
async function timeEnginePass(params: { pending: number; indexed: number; runs: number }): Promise<ReconcileResult["enginePass"]> {
  let fastest = Number.POSITIVE_INFINITY;
  let reconciledCount = 0;
  for (let run = 0; run < params.runs; run++) {
    const { rows, actions } = makeData({ ...params, now: Date.now() });
    // Saved by an earlier page, as the app finds them on load.
    const storage = memoryStorage();
    storage.setItem(DEFAULT_STORAGE_KEY, serializeActions(actions));
    const store = new ActionStore({ storage, now: Date.now });
    const indexer = new FakeIndexer();
    indexer.rows = rows;
    const engine = new SyncEngine({ store, chain: new FakeChain(), indexer });
    const started = performance.now();
    await engine.start();
    fastest = Math.min(fastest, performance.now() - started);
    engine.stop();
    const expected = actions.filter((action) => findIndexedRowNaive({ action, rows }) !== undefined);
    const reconciled = store.list().filter((action) => action.status === "reconciled");
    if (reconciled.length !== expected.length || reconciled.some((action) => action.indexed?.amount !== findIndexedRowNaive({ action, rows })?.amount)) {
      throw new ReconcileMismatchError(`the engine pass reconciled ${reconciled.length} actions; the naive search finds ${expected.length}`);
    }
    reconciledCount = reconciled.length;
  }
  return { pending: params.pending, indexed: params.indexed, reconciled: reconciledCount, ms: round(fastest) };
}

export async function runReconcile(params: {
  pending: number;
  indexed: number;
  /** Size of the whole-engine pass (its store writes grow with pending x matched). */
  enginePass: { pending: number; indexed: number };
  log: (line: string) => void;
}): Promise<ReconcileResult> {
  const { rows, actions } = makeData({ pending: params.pending, indexed: params.indexed, now: Date.now() });
  const fast = matchWithEngine({ actions, rows });
  const naive = actions.map((action) => findIndexedRowNaive({ action, rows }));
  const matched = fast.filter(Boolean).length;
  const differ = fast.findIndex((row, i) => row !== naive[i]);
  if (differ !== -1 || matched !== Math.ceil(params.pending / 2)) {
    throw new ReconcileMismatchError(
      `the engine matched ${matched} of ${params.pending} (expected ${Math.ceil(params.pending / 2)})` +
        (differ === -1 ? "" : `; it differs from the naive search at ${actions[differ]!.id}`),
    );
  }
  const ms = best(5, () => matchWithEngine({ actions, rows }));
  const naiveMs = best(1, () => actions.map((action) => findIndexedRowNaive({ action, rows })));
  params.log(`  reconcile: ${params.pending} pending vs ${params.indexed} indexed: engine ${ms.toFixed(1)} ms, naive ${naiveMs.toFixed(0)} ms`);
  const enginePass = await timeEnginePass({ ...params.enginePass, runs: 3 });
  params.log(`  engine pass: ${enginePass.pending} pending vs ${enginePass.indexed} indexed, ${enginePass.reconciled} reconciled: ${enginePass.ms} ms`);
  return { pending: params.pending, indexed: params.indexed, ms: round(ms, 1), naiveMs: round(naiveMs), enginePass };
}
