/**
 * Client reconciliation micro-benchmark: `pending` pending actions against `indexed` indexed
 * rows, half of the actions confirmed (spread through the rows), Map-based against the naive
 * search-in-a-loop, same data.
 */
import { type Hex, keccak256, toHex } from "viem";
import { type IndexedRow, type PendingAction, reconcile, reconcileNaive } from "./lib/reconcile";
import { round } from "./lib/stats";

export type ReconcileResult = { pending: number; indexed: number; ms: number; naiveMs: number };

function hashOf(i: number): Hex {
  return keccak256(toHex(i));
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

export function runReconcile(params: { pending: number; indexed: number; log: (line: string) => void }): ReconcileResult {
  const indexed: IndexedRow[] = Array.from({ length: params.indexed }, (_, i) => ({ id: `row-${i}`, transactionHash: hashOf(i) }));
  // Even actions are indexed (spread over the whole row list), odd ones are not yet.
  const step = Math.max(1, Math.floor(params.indexed / params.pending));
  const pending: PendingAction[] = Array.from({ length: params.pending }, (_, i) => ({
    id: `action-${i}`,
    transactionHash: i % 2 === 0 ? hashOf((i * step) % params.indexed) : hashOf(params.indexed + i),
  }));

  const fast = reconcile({ pending, indexed });
  const naive = reconcileNaive({ pending, indexed });
  if (fast.confirmed.length !== naive.confirmed.length || fast.confirmed.length !== Math.ceil(params.pending / 2)) {
    throw new Error(`reconcile confirmed ${fast.confirmed.length}, naive ${naive.confirmed.length}, expected ${Math.ceil(params.pending / 2)}`);
  }
  const ms = best(5, () => reconcile({ pending, indexed }));
  const naiveMs = best(1, () => reconcileNaive({ pending, indexed }));
  params.log(`  reconcile: ${params.pending} pending vs ${params.indexed} indexed: Map ${ms.toFixed(1)} ms, naive ${naiveMs.toFixed(0)} ms`);
  return { pending: params.pending, indexed: params.indexed, ms: round(ms, 1), naiveMs: round(naiveMs) };
}
