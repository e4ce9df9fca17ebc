/**
 * The reconciler: compares the index with the chain at one block B, the indexer's checkpoint.
 * The chain wins: every difference is reported as `missing_in_db`, `extra_in_db` or
 * `value_mismatch`, with the rows on both sides.
 *
 * - every chama row with `getChama` at B, and its counts with the logs up to B;
 * - every member row with `contributedBy` / `receivedBy` at B, and its counts with the logs;
 * - the contract's native balance at B with the sum of the indexed chama balances;
 * - every contribution and payout row with `eth_getLogs` up to B;
 * - the transaction ledger, when it is given one: every `confirmed` or `reconciled` record mined
 *   at or below B has its receipt at the same block hash, succeeded, and every `reconciled` one
 *   its event row in the index at B (compare-ledger.ts; reported as table `ledger`).
 *
 * The index's side is read by read-index.ts (one read-only snapshot), the chain's by
 * read-chain.ts (JSON-RPC batches), and compare-tables.ts compares them table by table.
 */
import { type Address, getAddress } from "viem";
import type { Env, OpsEnv } from "../config/env";
import type { Discrepancy, LedgerCheck, ReconcileReport } from "../common/ops-api";
import { compareLedger, receiptsToFetch } from "./compare-ledger";
import { compareBalance, compareChamas, compareEvents, compareMembers, countLogs, membersToRead } from "./compare-tables";
import { countingClient, readBalance, readChamas, readLogs, readMembers, readReceipts } from "./read-chain";
import { type IndexSnapshot, readIndex } from "./read-index";
import type { LedgerSource } from "./read-ledger";
import type { Snapshot } from "./snapshot";

export type { Discrepancy, DiscrepancyKind, DiscrepancyTable, ReconcileReport, Values } from "../common/ops-api";
export { ReconcileError } from "./errors";
/** The snapshot a caller hands to reconcile(), over PostgreSQL or PGlite. */
export { type Query, type Row, type Snapshot, type SqlClient, pgliteSnapshot, postgresSnapshot } from "./snapshot";
export { type LedgerQuery, type LedgerSource, ledgerSource, ledgerTablesExist } from "./read-ledger";

export type ReconcileParameters = {
  snapshot: Snapshot;
  /** Schema the index lives in (tables are read as "schema"."table"). */
  schema: string;
  rpcUrl: string;
  chainId: number;
  address: Address;
  startBlock: number;
  pageSize?: number;
  batchSize?: number;
  logRange?: number;
  maxDiscrepancies?: number;
  rpcTimeoutMs?: number;
  /** The transaction ledger to check, or why it is not checked (default: not checked). */
  ledger?: LedgerSource;
};

/** Everything but the snapshot and schema, from the configuration: the chain and contract the
 * indexer uses, the RPC the reconciler trusts (RECONCILE_RPC_URL, else the indexer's) and the
 * RECONCILE_* sizes. */
export function reconcileSettings(env: Env, ops: OpsEnv): Omit<ReconcileParameters, "snapshot" | "schema"> {
  return {
    rpcUrl: ops.reconcileRpcUrl ?? env.rpcUrl,
    chainId: env.chainId,
    address: env.chamaAddress,
    startBlock: env.startBlock,
    pageSize: ops.reconcilePageSize,
    batchSize: ops.reconcileBatchSize,
    logRange: ops.reconcileLogRange,
  };
}

/** Counts every discrepancy and keeps the first `max`. */
function discrepancyLog(max: number) {
  const log = { count: 0, kept: [] as Discrepancy[] };
  const report = (d: Discrepancy) => {
    log.count += 1;
    if (log.kept.length < max) log.kept.push(d);
  };
  return { log, report };
}

/** Milliseconds since the previous call (the first: since `start`). */
function lapTimer(start: number): () => number {
  let mark = start;
  return () => {
    const now = Date.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
}

/** Compares the index with the chain at the indexer's checkpoint. Never throws for a difference:
 * differences are the report. Throws a ReconcileError when it cannot read one side. */
export async function reconcile(params: ReconcileParameters): Promise<ReconcileReport> {
  const started = Date.now();
  const pageSize = params.pageSize ?? 1_000;
  const batchSize = params.batchSize ?? 500;
  const logRange = BigInt(params.logRange ?? 50_000);
  const { log, report } = discrepancyLog(params.maxDiscrepancies ?? 1_000);
  const address = getAddress(params.address);
  const { client, stats } = countingClient({ rpcUrl: params.rpcUrl, batchSize, timeoutMs: params.rpcTimeoutMs ?? 30_000 });

  const index = await readIndex({ snapshot: params.snapshot, schema: params.schema, chainId: params.chainId, pageSize });
  const lap = lapTimer(started);
  const phasesMs = { readIndex: lap(), logs: 0, chamaViews: 0, memberViews: 0, ledger: 0 };
  const chain = { client, address, blockNumber: index.block, batchSize };

  const logs = await readLogs({ ...chain, fromBlock: BigInt(params.startBlock), logRange });
  const counts = countLogs(logs.logs);
  compareEvents({ logs: logs.logs, index, report });
  phasesMs.logs = lap();

  compareChamas({ chamas: await readChamas(chain), counts, index, report });
  phasesMs.chamaViews = lap();

  compareMembers({ members: await readMembers({ ...chain, members: membersToRead({ counts, index }) }), counts, index, report });
  phasesMs.memberViews = lap();

  compareBalance({ address, balance: await readBalance(chain), index, report });

  const ledger = await checkLedger({ source: params.ledger, index, mined: logs.mined, client, batchSize, report });
  phasesMs.ledger = lap();

  return {
    ok: log.count === 0,
    block: index.block.toString(),
    blockTimestamp: index.blockTimestamp.toString(),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    rows: { chamas: index.chamas.length, members: index.members.length, contributions: index.contributions.length, payouts: index.payouts.length },
    logs: logs.count,
    rpc: { ...stats },
    phasesMs,
    discrepancyCount: log.count,
    discrepancies: log.kept,
    ledger,
  };
}

/** The transaction hashes of the index's event rows at B. */
function indexedHashes(index: IndexSnapshot): Set<string> {
  return new Set([...index.contributions, ...index.payouts].map((e) => e.transactionHash).concat(index.chamas.map((c) => c.createdTxHash)));
}

/** The ledger's records against the chain and the index at B. A difference whose record the
 * follower has moved since it was read (a reorg it is handling) is left to the next run. */
async function checkLedger(params: {
  source: LedgerSource | undefined;
  index: IndexSnapshot;
  mined: Map<string, { blockNumber: bigint; blockHash: string }>;
  client: ReturnType<typeof countingClient>["client"];
  batchSize: number;
  report: (d: Discrepancy) => void;
}): Promise<LedgerCheck> {
  const { source, index, mined } = params;
  if (!source) return { skipped: "no ledger was given to this reconciliation" };
  if ("skipped" in source) return { skipped: source.skipped };
  const block = index.block;
  const records = await source.read(block);
  const hashes = receiptsToFetch({ block, records, mined });
  const receipts = await readReceipts({ client: params.client, batchSize: params.batchSize, hashes });
  const indexed = indexedHashes(index);
  const found: Discrepancy[] = [];
  const checked = compareLedger({ block, records, mined, receipts, indexed, report: (d) => found.push(d) });
  if (found.length > 0) {
    const now = new Map((await source.reread(found.map((d) => d.key))).map((r) => [r.hash, r]));
    const before = new Map(records.map((r) => [r.hash.toLowerCase(), r]));
    for (const d of found) {
      const was = before.get(d.key);
      const is = now.get(d.key);
      if (was && is && was.status === is.status && was.blockHash === is.blockHash && was.blockNumber === is.blockNumber) params.report(d);
    }
  }
  return { checked, receipts: hashes.length };
}
