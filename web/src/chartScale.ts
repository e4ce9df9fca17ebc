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

// ---------------------------------------------------------------------------------------------
// The daily chart: amounts are bigint wei, so its scale, ticks and bar heights are bigint too.

/** One UTC day of a chama: days since the epoch, wei contributed, contributions made. */
export type DayPoint = { day: number; contributed: bigint; contributionCount: number };

/** The most days the daily chart shows (the query asks for the newest 60 days with data, which
 * always covers the 60 calendar days ending at the newest of them). */
export const MAX_CHART_DAYS = 60;

export type FillDaysParameters = {
  days: readonly { day: number; contributed: string | bigint; contributionCount: number }[];
  /** Today as days since the epoch (UTC). */
  today: number;
  maxDays?: number;
};

/**
 * Every calendar day from the first with data to the last shown, days without contributions as
 * zero, oldest first. The range runs to today (quiet days until now are shown) unless the last
 * contribution is older than the window, and holds at most `maxDays` days (the newest).
 */
export function fillDays(params: FillDaysParameters): DayPoint[] {
  const maxDays = params.maxDays ?? MAX_CHART_DAYS;
  if (params.days.length === 0) return [];
  const byDay = new Map<number, DayPoint>();
  for (const d of params.days) {
    const contributed = BigInt(d.contributed);
    const seen = byDay.get(d.day);
    byDay.set(d.day, {
      day: d.day,
      contributed: (seen?.contributed ?? 0n) + contributed,
      contributionCount: (seen?.contributionCount ?? 0) + d.contributionCount,
    });
  }
  const known = [...byDay.keys()];
  const first = Math.min(...known);
  const last = Math.max(...known);
  const end = params.today >= last && params.today - last < maxDays ? params.today : last;
  const start = Math.max(first, end - maxDays + 1);
  const out: DayPoint[] = [];
  for (let day = start; day <= end; day++) out.push(byDay.get(day) ?? { day, contributed: 0n, contributionCount: 0 });
  return out;
}

export type AmountScale = {
  /** The axis runs from 0 to `top` (wei). */
  top: bigint;
  /** Evenly spaced from 0 to top (wei), each a round number in every unit (wei, sats, ETH). */
  ticks: bigint[];
  /** Set when a few days tower over the rest: they are above `top`, drawn broken at the top. */
  clip: { count: number; max: bigint } | undefined;
};

/** The smallest 1, 2 or 5 × 10^k (wei) with at most `maxSteps` steps to cover `value`. */
function niceStep(value: bigint, maxSteps: bigint): bigint {
  for (let magnitude = 1n; ; magnitude *= 10n) {
    for (const m of [1n, 2n, 5n]) {
      const step = m * magnitude;
      if (step * maxSteps >= value) return step;
    }
  }
}

/**
 * The daily chart's y-axis, in wei. Scaled to the largest day, unless that would flatten the
 * ordinary days: a day more than ten times the median day with contributions is "towering", and
 * then the axis stops just above the largest ordinary day; towering days are drawn to the top,
 * broken, with their amount named. Ticks are 1, 2 or 5 × a power of ten in wei: round in sats and
 * ETH too, since those are powers of ten of wei.
 */
export function amountScale(values: readonly bigint[]): AmountScale {
  const nonzero = values.filter((v) => v > 0n).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (nonzero.length === 0) return { top: 1n, ticks: [0n], clip: undefined };
  const max = nonzero[nonzero.length - 1]!;
  const median = nonzero[Math.floor((nonzero.length - 1) / 2)]!;
  const ordinary = nonzero.filter((v) => v <= 10n * median);
  const basis = ordinary[ordinary.length - 1]!;
  const step = niceStep(basis, 4n);
  const top = ((basis + step - 1n) / step) * step;
  const ticks: bigint[] = [];
  for (let t = 0n; t <= top; t += step) ticks.push(t);
  const above = nonzero.filter((v) => v > top);
  return { top, ticks, clip: above.length > 0 ? { count: above.length, max } : undefined };
}

/** A bar's height in pixels for `value` on `scale` (capped at the top; a day with anything at
 * all is at least `min` px, so a small day never vanishes). Exact bigint ratio, then a Number of
 * at most 10,000 for drawing. */
export function barHeight(params: { value: bigint; scale: AmountScale; height: number; min?: number }): number {
  const { value, scale, height } = params;
  if (value <= 0n) return 0;
  const capped = value > scale.top ? scale.top : value;
  const ratio = Number((capped * 10_000n) / scale.top) / 10_000;
  return Math.max(params.min ?? 2, ratio * height);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A UTC day as the axis names it: "3 Dec", or "3 Dec 2026" with the year. */
export function formatDay(day: number, withYear = false): string {
  const date = new Date(day * 86_400_000);
  const text = `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]!}`;
  return withYear ? `${text} ${date.getUTCFullYear()}` : text;
}

/** The year of a UTC day. */
function yearOf(day: number): number {
  return new Date(day * 86_400_000).getUTCFullYear();
}

/**
 * Which days of `first`..`last` get a date label on an axis `width` px wide: every k-th day
 * (k of 1, 2, 3, 7, 14, 28, ...) so that labels of `labelWidth` px never overlap, counted from the
 * last day so the newest day is always labelled. The first label carries the year, and so does
 * any label in a different year than the label before it.
 */
export function dayTicks(params: { first: number; last: number; width: number; labelWidth?: number }): { day: number; label: string }[] {
  const { first, last, width } = params;
  const count = last - first + 1;
  if (count <= 0) return [];
  const labelWidth = params.labelWidth ?? 80;
  const slot = width / count;
  const need = Math.ceil(labelWidth / slot);
  const every = [1, 2, 3, 7, 14].find((k) => k >= need) ?? Math.ceil(need / 28) * 28;
  const days: number[] = [];
  for (let day = last; day >= first; day -= every) days.unshift(day);
  return days.map((day, i) => ({ day, label: formatDay(day, i === 0 || yearOf(day) !== yearOf(days[i - 1]!)) }));
}

/** A y-axis label: the amount in the unit as `formatAmount` writes it, without the unit's name
 * (the axis names it once). */
export function amountTickLabel(formatted: string, unitLabel: string): string {
  return formatted.endsWith(` ${unitLabel}`) ? formatted.slice(0, -unitLabel.length - 1) : formatted;
}

// ---------------------------------------------------------------------------------------------
// The lag chart's time axis.

/** Clock times (UTC) for a time axis from `start` to `end` (ms): a round step of 10, 15 or 30
 * seconds ("09:40:30"), or of 1, 2, 5, 10, 15, 30 or 60 minutes or whole hours ("09:40"), giving
 * at most `maxTicks` ticks, each on a multiple of the step. */
export function timeTicks(params: { start: number; end: number; maxTicks: number }): { at: number; label: string }[] {
  const { start, end } = params;
  const minute = 60_000;
  const steps = [10_000, 15_000, 30_000, ...[1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * minute)];
  const step = end > start ? (steps.find((s) => (end - start) / s <= Math.max(1, params.maxTicks - 1)) ?? 1440 * minute) : minute;
  const seconds = step < minute;
  if (!(end > start)) return [{ at: start, label: clock(start, false) }];
  const ticks: { at: number; label: string }[] = [];
  for (let at = Math.ceil(start / step) * step; at <= end; at += step) ticks.push({ at, label: clock(at, seconds) });
  return ticks;
}

function clock(ms: number, seconds: boolean): string {
  return new Date(ms).toISOString().slice(11, seconds ? 19 : 16);
}
