/**
 * The reconciler: compares the index with the chain at one block B, the indexer's checkpoint.
 * The chain wins: every difference is reported as `missing_in_db`, `extra_in_db` or
 * `value_mismatch`, with the rows on both sides.
 *
 * - every chama row with `getChama` at B, and its counts with the logs up to B;
 * - every member row with `contributedBy` / `receivedBy` at B, and its counts with the logs;
 * - the contract's native balance at B with the sum of the indexed chama balances;
 * - every contribution and payout row with `eth_getLogs` up to B.
 *
 * The index's side is read by read-index.ts (one read-only snapshot), the chain's by
 * read-chain.ts (JSON-RPC batches), and compare-tables.ts compares them table by table.
 */
import { type Address, getAddress } from "viem";
import type { Env, OpsEnv } from "../config/env";
import type { Discrepancy, ReconcileReport } from "../common/ops-api";
import { compareBalance, compareChamas, compareEvents, compareMembers, countLogs, membersToRead } from "./compare-tables";
import { countingClient, readBalance, readChamas, readLogs, readMembers } from "./read-chain";
import { readIndex } from "./read-index";
import type { Snapshot } from "./snapshot";

export type { Discrepancy, DiscrepancyKind, DiscrepancyTable, ReconcileReport, Values } from "../common/ops-api";
export { ReconcileError } from "./errors";
/** The snapshot a caller hands to reconcile(), over PostgreSQL or PGlite. */
export { type Query, type Row, type Snapshot, type SqlClient, pgliteSnapshot, postgresSnapshot } from "./snapshot";

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
  const phasesMs = { readIndex: lap(), logs: 0, chamaViews: 0, memberViews: 0 };
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
  };
}
