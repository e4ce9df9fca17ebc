/**
 * The charts in Chromium, on the production build (`vite build` served by `vite preview`), so
 * the pages and charts come in their own chunks as they do for users: the chama page's daily
 * chart has a y-axis in the chosen unit, a date axis with the year, and one bar per calendar
 * day from the first contribution to the last, days without contributions included; one huge
 * day does not flatten the others. The operator page, loaded on demand (its chunk is not fetched
 * by the list), shows the lag chart with its own axes for blocks and seconds and a clock axis.
 * A chart that first appears with a chama's first contribution is drawn at the phone's width.
 * Screenshots of both charts at 390 px and 1280 px go to test-results/.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { build, preview, type PreviewServer } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SAT } from "../../common/chain";
import { projectRoot } from "../../scripts/lib/chama";
import { getFreePort } from "../../scripts/lib/ports";
import { formatDay } from "../../web/src/chartScale";
import { accounts, chamaAs } from "../_support/chain";
import { screenshotPath } from "./browser";
import { useDevAccount } from "./pages";
import { type WebStack, startWebStack } from "./stack";

const DAY = 86_400;
/** Contributions per day offset from the first block's day, in sats: days 1, 3 and 4 have none;
 * day 5's towers 500x over the others. */
const SEEDED: { offset: number; sats: bigint }[] = [
  { offset: 0, sats: 1_000n },
  { offset: 2, sats: 2_000n },
  { offset: 5, sats: 1_000_000n },
];

let stack: WebStack;
let server: PreviewServer;
let url: string;
let outDir: string;
/** The seeded days, as days since the epoch (UTC). */
let firstDay: number;

/** Builds the web app for the stack's indexer and chain (the VITE_* variables startWebStack
 * set) and serves the build on a free port. */
async function serveProductionBuild(): Promise<void> {
  outDir = mkdtempSync(path.join(os.tmpdir(), "jenga-charts-build-"));
  const configFile = path.join(projectRoot, "web", "vite.config.ts");
  // Vitest sets NODE_ENV=test, which Vite would carry into the build (React's development
  // bundle): build as `npm run web:build` does.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({ configFile, mode: "production", logLevel: "warn", build: { outDir, emptyOutDir: true } });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  const port = await getFreePort();
  server = await preview({ configFile, logLevel: "warn", build: { outDir }, preview: { host: "127.0.0.1", port, strictPort: true } });
  url = `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      const admin = chamaAs({ chain, address, account: accounts[0]! });
      await admin.createChama("Chart Savers", 0n);
      await admin.createChama("First Day Savers", 0n);
      const member = chamaAs({ chain, address, account: accounts[1]! });
      const start = (await chain.publicClient.getBlock()).timestamp;
      // Noon of the first day, so every offset lands on its own UTC day.
      const noon = (start / BigInt(DAY)) * BigInt(DAY) + BigInt(DAY / 2) + BigInt(DAY);
      firstDay = Number(noon / BigInt(DAY));
      for (const { offset, sats } of SEEDED) {
        await chain.testClient.setNextBlockTimestamp({ timestamp: noon + BigInt(offset * DAY) });
        await member.contribute(1n, sats * SAT);
      }
    },
    indexerEnv: { HEALTH_SAMPLE_INTERVAL_MS: "1000" },
  });
  await serveProductionBuild();
}, 300_000);

afterAll(async () => {
  await server?.close();
  await stack?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** The chunk files the page itself requested (not its service worker's precache). */
function chunkRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    const pathname = new URL(request.url()).pathname;
    if (pathname.endsWith(".js")) seen.push(pathname);
  });
  return seen;
}

async function noHorizontalScroll(page: Page): Promise<void> {
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
}

describe("charts in Chromium (production build)", () => {
  test("daily chart: axes in the unit, dates with the year, one bar per day with zero days, a huge day clipped", async () => {
    const page = await stack.context.newPage();
    await useDevAccount(page, 2);
    await page.goto(`${url}/#/chama/1`);
    const chart = page.getByTestId("daily-chart");
    await chart.waitFor({ timeout: 30_000 });

    // One bar per calendar day, first to last, zero days included, in order.
    const bars = await chart.locator("[data-testid=daily-bar]").evaluateAll((els) =>
      els.map((el) => ({ day: el.getAttribute("data-day"), wei: el.getAttribute("data-wei"), broken: el.getAttribute("data-broken") })),
    );
    const iso = (day: number) => new Date(day * DAY * 1000).toISOString().slice(0, 10);
    const expected = Array.from({ length: 6 }, (_, offset) => ({
      day: iso(firstDay + offset),
      wei: String((SEEDED.find((s) => s.offset === offset)?.sats ?? 0n) * SAT),
    }));
    expect(bars.map(({ day, wei }) => ({ day, wei }))).toEqual(expected);
    expect(bars.filter((b) => b.wei === "0")).toHaveLength(3);
    expect(await chart.getAttribute("data-days")).toBe("6");

    // The y-axis in sats: round values, the unit named, the scale stopping above the ordinary
    // days so that the 1,000-sat day is half the height, not 0.1% of it.
    expect(await page.getByTestId("daily-y-unit").textContent()).toBe("sats per day");
    expect(await chart.locator("[data-testid=daily-y-tick]").allTextContents()).toEqual(["0", "500", "1,000", "1,500", "2,000"]);
    const heights = await chart.locator("[data-testid=daily-bar] rect.bar").evaluateAll((els) => els.map((el) => Number(el.getAttribute("height"))));
    expect(heights).toHaveLength(3);
    expect(heights[0]!).toBeGreaterThan(80);
    expect(heights[1]!).toBeCloseTo(heights[0]! * 2, 0);
    expect(bars[5]!.broken).toBe("yes");
    expect(await page.getByTestId("daily-clip-note").textContent()).toContain(`${formatDay(firstDay + 5, true)} 1,000,000 sats`);

    // Dates on the time axis, the first with its year; the newest day labelled.
    const dates = await chart.locator("[data-testid=daily-x-tick]").allTextContents();
    expect(dates[0]).toBe(formatDay(firstDay, true));
    expect(dates[dates.length - 1]).toContain(formatDay(firstDay + 5));
    expect(await page.getByTestId("daily-caption").textContent()).toContain("3 without contributions");

    // Text at least 11 px as drawn (the SVG is never scaled down).
    const sizes = await chart.locator("text").evaluateAll((els) => els.map((el) => parseFloat(getComputedStyle(el).fontSize)));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(11);
    const box = await chart.boundingBox();
    expect(Math.abs(box!.width - Number(await chart.getAttribute("width")))).toBeLessThanOrEqual(2);

    await chart.scrollIntoViewIfNeeded();
    await page.getByTestId("daily-chart").screenshot({ path: screenshotPath("charts-daily-1280") });

    // Another unit: the same ticks, in ETH.
    await page.getByTestId("unit-select").selectOption("ether");
    await expect.poll(() => page.getByTestId("daily-y-unit").textContent()).toBe("ETH per day");
    expect(await chart.locator("[data-testid=daily-y-tick]").allTextContents()).toEqual(["0", "0.000005", "0.00001", "0.000015", "0.00002"]);
    await page.getByTestId("unit-select").selectOption("sats");

    // A phone: fewer date labels, none overlapping, the bars all there, no sideways scroll.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(async () => Number(await chart.getAttribute("width"))).toBeLessThan(390);
    expect(await chart.locator("[data-testid=daily-bar]").count()).toBe(6);
    const labelBoxes = await chart.locator("[data-testid=daily-x-tick]").evaluateAll((els) => els.map((el) => el.getBoundingClientRect()).map((r) => [r.left, r.right]));
    for (let i = 1; i < labelBoxes.length; i++) expect(labelBoxes[i]![0]!).toBeGreaterThan(labelBoxes[i - 1]![1]!);
    await noHorizontalScroll(page);
    await chart.scrollIntoViewIfNeeded();
    await page.getByTestId("daily-chart").screenshot({ path: screenshotPath("charts-daily-390") });
    await page.screenshot({ path: screenshotPath("charts-chama-390"), fullPage: true });
    await page.close();
  });

  test("a chart that appears with the first contribution is drawn at the phone's width", async () => {
    const page = await stack.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await useDevAccount(page, 2);
    await page.goto(`${url}/#/chama/2`);
    await page.getByText("No contributions yet.").waitFor({ timeout: 30_000 });
    // Contributed from outside the page: the indexed block is pushed and the chart mounts then.
    await chamaAs({ chain: stack.chain, address: stack.address, account: accounts[1]! }).contribute(2n, 1_000n * SAT);
    const chart = page.getByTestId("daily-chart");
    await chart.waitFor({ timeout: 30_000 });
    await expect.poll(async () => Number(await chart.getAttribute("width")), { timeout: 5_000 }).toBeLessThan(390);
    await noHorizontalScroll(page);
    await page.close();
  });

  test("operator page loads on demand and its lag chart has axes for blocks, seconds and time", async () => {
    const page = await stack.context.newPage();
    const requested = chunkRequests(page);
    await useDevAccount(page, 3);
    await page.goto(`${url}/#/`);
    await page.getByTestId("chama-list").waitFor({ timeout: 30_000 });
    // The wallet and sync engine follow the first screen; the other pages are not fetched.
    await page.getByTestId("wallet-address").waitFor({ timeout: 30_000 });
    expect(requested.some((p) => /\/WalletRuntime-[\w-]+\.js$/.test(p))).toBe(true);
    expect(requested.filter((p) => /\/(OperatorPage|ChamaDetail|AccountPage|DailyChart)-[\w-]+\.js$/.test(p))).toEqual([]);

    await page.getByTestId("operator-link").click();
    await page.getByTestId("operator-page").waitFor({ timeout: 30_000 });
    expect(requested.some((p) => /\/OperatorPage-[\w-]+\.js$/.test(p))).toBe(true);
    await page.getByTestId("op-status").waitFor({ timeout: 30_000 });
    expect(["ok", "lagging"]).toContain(await page.getByTestId("op-status").textContent());

    const chart = page.getByTestId("lag-chart");
    await chart.waitFor({ timeout: 30_000 });
    // A few samples, so the time axis spans some seconds.
    await stack.chain.testClient.mine({ blocks: 1 });
    await expect.poll(async () => Number(await chart.getAttribute("data-samples")), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    for (const series of ["blocks", "seconds"] as const) {
      const panel = page.getByTestId(`lag-panel-${series}`);
      const ticks = await panel.locator("[data-testid=lag-y-tick]").allTextContents();
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks[0]).toBe(series === "blocks" ? "0" : "0 s");
      expect(await panel.textContent()).toContain(series === "blocks" ? "Lag in blocks" : "Lag in seconds");
    }
    expect(await page.getByTestId("lag-panel-seconds").locator("[data-testid=lag-y-tick]").allTextContents()).toSatisfy((ticks: string[]) =>
      ticks.every((t) => /^\d+(\.\d+)? (s|min|h|d)$/.test(t)),
    );
    const times = await chart.locator("[data-testid=lag-time-tick]").allTextContents();
    expect(times.length).toBeGreaterThanOrEqual(1);
    for (const t of times) expect(t).toMatch(/^\d\d:\d\d(:\d\d)?$/);
    expect(await page.getByTestId("lag-time-axis").textContent()).toContain("time (UTC)");
    await chart.scrollIntoViewIfNeeded();
    await chart.screenshot({ path: screenshotPath("charts-lag-1280") });

    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(async () => Number(await chart.getAttribute("width"))).toBeLessThan(390);
    await noHorizontalScroll(page);
    await chart.scrollIntoViewIfNeeded();
    await chart.screenshot({ path: screenshotPath("charts-lag-390") });
    await page.screenshot({ path: screenshotPath("charts-operator-390"), fullPage: true });
    await page.close();
  });
});
