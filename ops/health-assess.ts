/**
 * The status rules of `/sync-health`, in one place and free of I/O: from what one sample saw (the
 * chain's head, the indexer's checkpoint, the reorg watch, the last reconciliation) to a status
 * and one sentence per finding:
 *
 * - `diverged`: the index disagrees with the chain (a reconciliation found differences, a reorg
 *   deeper than the finality window was seen, or the index is ahead of the chain's head);
 * - `stalled`: the indexed block has not moved for HEALTH_STALL_SECONDS while the chain has, or
 *   the RPC or the database cannot be read, or there is no checkpoint yet;
 * - `lagging`: still backfilling, or behind by more than HEALTH_MAX_LAG_BLOCKS / _SECONDS;
 * - `ok`: none of the above.
 */
import type { HealthStatus, ReconciliationSummary, Reorg, SyncHealth } from "../common/ops-api";

/** The indexer's checkpoint and whether its backfill is done. */
export type IndexState = { block: bigint; timestamp: bigint; ready: boolean };
/** The chain's head as the RPC reported it. */
export type ChainHead = { number: bigint; timestamp: bigint };
/** A side that could not be read, and why. */
export type Unread = { error: string };

export type AssessParameters = {
  thresholds: SyncHealth["thresholds"];
  /** The chain's head, or why the RPC did not answer. */
  head: ChainHead | Unread;
  /** The index: its state, `undefined` before the indexer's first checkpoint, or why it cannot be read. */
  index: IndexState | undefined | Unread;
  startBlock: bigint;
  /** How long the indexed block has stayed where it is, in ms. */
  stuckMs: number;
  reorgs: { unrecoverable: boolean; deepest: number; last: Reorg | null };
  lastReconciliation: ReconciliationSummary | null;
};

export type AssessReturnType = { status: HealthStatus; reasons: string[] };

/** Whether a side was read; narrows `head` and `index`. */
export function isUnread(value: object | undefined): value is Unread {
  return value !== undefined && "error" in value;
}

/** Head minus indexed block, in blocks and in chain seconds, never below 0. */
export function measureLag(params: { index: IndexState; head: ChainHead }): NonNullable<SyncHealth["lag"]> {
  const blocks = params.head.number - params.index.block;
  const seconds = params.head.timestamp - params.index.timestamp;
  return { blocks: Number(blocks > 0n ? blocks : 0n), seconds: Number(seconds > 0n ? seconds : 0n) };
}

type MeasureSyncParameters = { index: IndexState; head: ChainHead | undefined; startBlock: bigint };

/** The block the backfill runs to: the head, or without one the indexed block. */
function syncTarget(params: MeasureSyncParameters): bigint {
  return params.head?.number ?? params.index.block;
}

/** The sync mode and the share of blocks from the start block to the head (or, without a head,
 * to the indexed block) that are indexed. */
export function measureSync(params: MeasureSyncParameters): NonNullable<SyncHealth["sync"]> {
  const { index, startBlock: start } = params;
  const total = syncTarget(params) - start;
  const done = index.block - start;
  const progress = total <= 0n ? 1 : Math.min(1, Math.max(0, Number((done * 10_000n) / total) / 10_000));
  return { mode: index.ready ? "realtime" : "backfilling", ready: index.ready, startBlock: start.toString(), progress };
}

type Finding = { status: Exclude<HealthStatus, "ok">; reason: string };

/** What the reads themselves say: a dead RPC, an unreadable index, no checkpoint yet. */
function readFindings(params: AssessParameters): Finding[] {
  const { head, index, thresholds } = params;
  const findings: Finding[] = [];
  if (isUnread(head)) findings.push({ status: "stalled", reason: `the RPC did not answer within ${thresholds.rpcTimeoutMs} ms: ${head.error}` });
  if (index === undefined) findings.push({ status: "stalled", reason: "the indexer has not written a checkpoint yet" });
  else if (isUnread(index)) findings.push({ status: "stalled", reason: `the index cannot be read: ${index.error}` });
  return findings;
}

/** Backfill, lag against the head, and an indexed block that stopped moving. */
function progressFindings(params: AssessParameters & { index: IndexState }): Finding[] {
  const { index, thresholds } = params;
  const head = isUnread(params.head) ? undefined : params.head;
  const findings: Finding[] = [];
  if (!index.ready) {
    const sync = { index, head, startBlock: params.startBlock };
    findings.push({ status: "lagging", reason: `backfilling: ${(measureSync(sync).progress * 100).toFixed(2)}% of blocks ${params.startBlock}..${syncTarget(sync)}` });
  }
  if (!head) return findings;
  const lag = measureLag({ index, head });
  if (index.block > head.number) {
    findings.push({ status: "diverged", reason: `the index is at block ${index.block}, ahead of the chain's head ${head.number}: the chain was reset or reorged below it` });
  }
  if (lag.blocks > thresholds.maxLagBlocks) findings.push({ status: "lagging", reason: `${lag.blocks} blocks behind the head (threshold ${thresholds.maxLagBlocks})` });
  if (lag.seconds > thresholds.maxLagSeconds) findings.push({ status: "lagging", reason: `${lag.seconds} s behind the head (threshold ${thresholds.maxLagSeconds})` });
  if (head.number > index.block && params.stuckMs >= thresholds.stallSeconds * 1_000) {
    findings.push({
      status: "stalled",
      reason: `the indexed block ${index.block} has not moved for ${Math.round(params.stuckMs / 1_000)} s (threshold ${thresholds.stallSeconds})`,
    });
  }
  return findings;
}

/** An unrecoverable reorg, and a reconciliation that found differences. */
function divergenceFindings(params: AssessParameters): Finding[] {
  const { reorgs, thresholds } = params;
  const findings: Finding[] = [];
  if (reorgs.unrecoverable) {
    findings.push({
      status: "diverged",
      reason:
        `unrecoverable reorg: the chain replaced ${reorgs.last?.beyondWindow ? "at least " : ""}${reorgs.deepest} blocks, more than the ${thresholds.finalityBlocks}-block finality window; ` +
        "the indexer keeps stale rows: run `npm run rebuild`",
    });
  }
  const last = params.lastReconciliation;
  if (last && "discrepancyCount" in last && last.discrepancyCount > 0) {
    findings.push({ status: "diverged", reason: `the last reconciliation (block ${last.block}) found ${last.discrepancyCount} differences from the chain` });
  }
  return findings;
}

const SEVERITY: readonly HealthStatus[] = ["ok", "lagging", "stalled", "diverged"];

/** The status and its reasons: the worst finding wins (diverged, then stalled, then lagging),
 * and every finding gives its sentence, in the order the checks run. */
export function assess(params: AssessParameters): AssessReturnType {
  const { index } = params;
  const findings = [
    ...readFindings(params),
    ...(index === undefined || isUnread(index) ? [] : progressFindings({ ...params, index })),
    ...divergenceFindings(params),
  ];
  const status = findings.reduce<HealthStatus>((worst, f) => (SEVERITY.indexOf(f.status) > SEVERITY.indexOf(worst) ? f.status : worst), "ok");
  return { status, reasons: findings.map((f) => f.reason) };
}
