/** The lag chart's y-axis: round tops with whole halves, and a start-up spike clipped at the
 * 95th percentile instead of flattening every other point. */
import { describe, expect, test } from "vitest";
import { chartScale, formatSeconds, percentile, roundTop } from "../../web/src/chartScale";

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
