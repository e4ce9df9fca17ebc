/** The lag chart's y-axis: round tops with whole halves, and a start-up spike clipped at the
 * 95th percentile instead of flattening every other point. */
import { describe, expect, test } from "vitest";
import {
  amountScale,
  amountTickLabel,
  barHeight,
  chartScale,
  dayTicks,
  fillDays,
  formatDay,
  formatSeconds,
  percentile,
  roundTop,
  timeTicks,
} from "../../web/src/chartScale";

describe("chartScale", () => {
  test("round tops", () => {
    expect([0, 1, 1.5, 3, 7, 11, 45, 90, 101].map(roundTop)).toEqual([1, 1, 2, 4, 8, 20, 60, 100, 200]);
  });

  test("the nearest-rank percentile", () => {
    expect(percentile([5, 1, 4, 2, 3], 95)).toBe(5);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
    expect(percentile([], 95)).toBe(0);
  });

  test("without a spike the axis reaches the maximum and nothing is clipped", () => {
    expect(chartScale([0, 1, 3, 2])).toEqual({ top: 4, ticks: [0, 2, 4], clip: undefined });
    expect(chartScale([0, 0])).toEqual({ top: 1, ticks: [0, 1], clip: undefined });
  });

  test("a 5.5-day start-up spike is clipped at the 95th percentile and counted", () => {
    const spike = 475_200;
    const values = [spike, spike, ...Array.from({ length: 58 }, (_, i) => (i % 5) + 1)];
    const scale = chartScale(values);
    expect(scale.top).toBe(6);
    expect(scale.ticks).toEqual([0, 3, 6]);
    expect(scale.clip).toEqual({ percentile: 95, at: 5, count: 2, max: spike });
  });

  test("seconds on the axis", () => {
    expect([45, 600, 18_000, 475_200].map(formatSeconds)).toEqual(["45 s", "10 min", "5 h", "5.5 d"]);
  });
});

describe("chartScale: small bumps", () => {
  test("a spike that would not stretch the axis tenfold is drawn to scale, not clipped", () => {
    expect(chartScale([0, 0, 6, ...Array.from({ length: 30 }, () => 0)])).toEqual({ top: 6, ticks: [0, 3, 6], clip: undefined });
  });
});

const SAT = 10_000_000_000n;
/** 2026-12-03 as days since the epoch. */
const DEC_3_2026 = Date.UTC(2026, 11, 3) / 86_400_000;

describe("fillDays: one bar per calendar day", () => {
  const day = (offset: number, sats: bigint, count = 1) => ({ day: DEC_3_2026 + offset, contributed: (sats * SAT).toString(), contributionCount: count });

  test("days without contributions are there, as zero, in order", () => {
    const filled = fillDays({ days: [day(0, 5n), day(3, 7n, 2)], today: DEC_3_2026 + 3 });
    expect(filled.map((d) => d.day - DEC_3_2026)).toEqual([0, 1, 2, 3]);
    expect(filled.map((d) => d.contributed)).toEqual([5n * SAT, 0n, 0n, 7n * SAT]);
    expect(filled.map((d) => d.contributionCount)).toEqual([1, 0, 0, 2]);
  });

  test("the range runs on to today, so quiet days since the last contribution show", () => {
    expect(fillDays({ days: [day(0, 5n)], today: DEC_3_2026 + 2 }).map((d) => d.contributed)).toEqual([5n * SAT, 0n, 0n]);
  });

  test("a last contribution older than the window ends the range (not 60 empty days)", () => {
    const filled = fillDays({ days: [day(0, 5n), day(1, 1n)], today: DEC_3_2026 + 400 });
    expect(filled.map((d) => d.day - DEC_3_2026)).toEqual([0, 1]);
  });

  test("at most maxDays days, the newest; unsorted input, amounts exact past 2^53 wei", () => {
    const big = 123_456_789_012_345_678_901n;
    const filled = fillDays({ days: [day(9, 1n), { day: DEC_3_2026, contributed: big.toString(), contributionCount: 1 }], today: DEC_3_2026 + 9, maxDays: 5 });
    expect(filled.map((d) => d.day - DEC_3_2026)).toEqual([5, 6, 7, 8, 9]);
    expect(fillDays({ days: [{ day: DEC_3_2026, contributed: big.toString(), contributionCount: 1 }], today: DEC_3_2026 })[0]!.contributed).toBe(big);
  });

  test("no days, no bars", () => {
    expect(fillDays({ days: [], today: DEC_3_2026 })).toEqual([]);
  });
});

describe("amountScale: a y-axis in wei with round ticks in every unit", () => {
  test("ticks reach the largest day and are round in sats", () => {
    const scale = amountScale([1_000n * SAT, 0n, 400n * SAT]);
    expect(scale.top).toBe(1_000n * SAT);
    expect(scale.ticks).toEqual([0n, 500n * SAT, 1_000n * SAT]);
    expect(scale.clip).toBeUndefined();
  });

  test("one huge day does not flatten the rest: the axis stops above the ordinary days", () => {
    const values = [1_000n * SAT, 2_000n * SAT, 0n, 1_500n * SAT, 1_000_000n * SAT];
    const scale = amountScale(values);
    expect(scale.top).toBe(2_000n * SAT);
    expect(scale.clip).toEqual({ count: 1, max: 1_000_000n * SAT });
    // The small days are a visible share of the height (the old scale drew 1,000 sats at 0.1%).
    expect(barHeight({ value: 1_000n * SAT, scale, height: 180 })).toBe(90);
    expect(barHeight({ value: 1_000_000n * SAT, scale, height: 180 })).toBe(180);
  });

  test("a tiny day is still a few pixels, a zero day none", () => {
    const scale = amountScale([1n, 9n, 10n]);
    expect(barHeight({ value: 1n, scale, height: 180 })).toBeGreaterThanOrEqual(2);
    expect(barHeight({ value: 0n, scale, height: 180 })).toBe(0);
  });

  test("amounts far past 2^53 wei keep exact ticks", () => {
    const scale = amountScale([3n * 10n ** 24n + 7n]);
    expect(scale.top).toBe(4n * 10n ** 24n);
    expect(scale.ticks).toEqual([0n, 10n ** 24n, 2n * 10n ** 24n, 3n * 10n ** 24n, 4n * 10n ** 24n]);
  });

  test("nothing contributed: a zero axis", () => {
    expect(amountScale([0n, 0n])).toEqual({ top: 1n, ticks: [0n], clip: undefined });
  });

  test("tick labels in the unit, without repeating its name", () => {
    expect(amountTickLabel("1,000 sats", "sats")).toBe("1,000");
    expect(amountTickLabel("0.00001 ETH", "ETH")).toBe("0.00001");
  });
});

describe("dayTicks and formatDay: a time axis with dates", () => {
  test("dates with the year on the first label", () => {
    expect(formatDay(DEC_3_2026)).toBe("3 Dec");
    expect(formatDay(DEC_3_2026, true)).toBe("3 Dec 2026");
    const ticks = dayTicks({ first: DEC_3_2026, last: DEC_3_2026 + 2, width: 600 });
    expect(ticks.map((t) => t.label)).toEqual(["3 Dec 2026", "4 Dec", "5 Dec"]);
  });

  test("the year again where it changes", () => {
    const dec31 = Date.UTC(2026, 11, 31) / 86_400_000;
    expect(dayTicks({ first: dec31 - 1, last: dec31 + 1, width: 600 }).map((t) => t.label)).toEqual(["30 Dec 2026", "31 Dec", "1 Jan 2027"]);
  });

  test("labels never overlap: fewer on a phone, the newest day always labelled", () => {
    const phone = dayTicks({ first: DEC_3_2026 - 59, last: DEC_3_2026, width: 320, labelWidth: 80 });
    expect(phone.length).toBeLessThanOrEqual(4);
    expect(phone[phone.length - 1]!.day).toBe(DEC_3_2026);
    const gaps = phone.slice(1).map((t, i) => t.day - phone[i]!.day);
    expect(new Set(gaps).size).toBe(1);
    expect(gaps[0]! * (320 / 60)).toBeGreaterThanOrEqual(80);
  });
});

describe("timeTicks: the lag chart's clock axis", () => {
  test("round minutes inside the range", () => {
    const start = Date.UTC(2026, 11, 3, 9, 7, 30);
    const ticks = timeTicks({ start, end: start + 60 * 60_000, maxTicks: 6 });
    expect(ticks.map((t) => t.label)).toEqual(["09:15", "09:30", "09:45", "10:00"]);
    expect(timeTicks({ start, end: start + 4 * 60_000, maxTicks: 6 }).map((t) => t.label)).toEqual(["09:08", "09:09", "09:10", "09:11"]);
  });

  test("seconds for a short span (the indexer just started)", () => {
    const start = Date.UTC(2026, 11, 3, 10, 0, 42);
    expect(timeTicks({ start, end: start + 18_000, maxTicks: 6 }).map((t) => t.label)).toEqual(["10:00:50", "10:01:00"]);
  });
});
