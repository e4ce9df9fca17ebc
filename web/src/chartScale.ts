/**
 * A y-axis for a chart of non-negative values: from 0 to a round top, with labelled ticks.
 *
 * When a few points tower over the rest (the indexer's first samples after a start, taken while
 * it caught up on days of blocks), a scale to the maximum flattens everything else onto the
 * baseline. Then the top follows the 95th percentile instead, and the points above it are
 * clipped: drawn at the top and marked, with their real value named.
 */

export type ChartScale = {
  top: number;
  ticks: number[];
  /** Set when the scale is clipped: the percentile value it follows and the largest value cut. */
  clip: { percentile: number; at: number; count: number; max: number } | undefined;
};

const PERCENTILE = 95;

/** The smallest of 1, 2, 4, 6, 8, 10, 20, 40, ... that is at least `value` (so half of it is whole). */
export function roundTop(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 6, 8, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

/** The nearest-rank percentile of `values` (0 for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function chartScale(values: readonly number[]): ChartScale {
  const max = values.reduce((a, b) => Math.max(a, b), 0);
  const p = percentile(values, PERCENTILE);
  // Clip only when it changes the picture: the maximum would stretch the axis tenfold.
  const clipped = max > 10 * roundTop(p);
  const top = roundTop(clipped ? p : max);
  const ticks = top === 1 ? [0, 1] : [0, top / 2, top];
  return {
    top,
    ticks,
    clip: clipped ? { percentile: PERCENTILE, at: p, count: values.filter((v) => v > top).length, max } : undefined,
  };
}

/** Seconds as the axis names them: "45 s", "12 min", "5 h", "5.5 d". */
export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 8_640) / 10} d`;
}
