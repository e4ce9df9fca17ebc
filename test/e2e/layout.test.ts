/**
 * The web app on a phone and on a desktop, in Chromium against a real anvil, the real indexer
 * and the Vite dev server: at 390 px and 1280 px every page (the chama list, a chama page, an
 * account page, the operator page, and a chama page with the review dialog open and with a
 * toast showing) never scrolls sideways, has buttons and fields of at least 44 × 44 px on the
 * phone, passes axe-core with no serious or critical violation, and loads with no failed
 * request (its favicon included); at 360 px and at a tablet's 720 px no page scrolls sideways
 * either. Screenshots `layout-<page>-<width>` go to test-results/.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { WebServer } from "../../scripts/lib/web";
import { SAT } from "../../common/chain";
import { accounts, type Chain, chamaAs } from "../_support/chain";
import { screenshotPath } from "./browser";
import { closeReview, reviewReady, useDevAccount } from "./pages";
import { type WebStack, startWebStack } from "./stack";

const WIDTHS = [390, 1280] as const;
const PHONE_MAX = 640;
/** The smallest touch target on a phone, in CSS pixels (WCAG 2.5.5's 44 × 44). */
const TOUCH = 44;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let stack: WebStack;
let chain: Chain;
let web: WebServer;
let context: BrowserContext;

type Visit = { name: string; hash: () => string; ready: (page: Page) => Promise<void> };

const PAGES: Visit[] = [
  {
    name: "list",
    hash: () => "#/",
    ready: (page) => page.waitForFunction(() => document.querySelectorAll("[data-testid=chama-row]").length === 3, undefined, { timeout: 30_000 }).then(() => undefined),
  },
  {
    name: "chama",
    hash: () => "#/chama/1",
    ready: async (page) => {
      await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
      await page.locator("[data-testid=payout-row]").first().waitFor({ timeout: 30_000 });
      await page.locator("[data-testid=ledger-rows][data-state=live]").waitFor({ timeout: 30_000 });
    },
  },
  {
    name: "account",
    hash: () => `#/account/${accounts[1]!.address.toLowerCase()}`,
    ready: (page) => page.locator("[data-testid=activity-row]").first().waitFor({ timeout: 30_000 }),
  },
  {
    name: "operator",
    hash: () => "#/operator",
    ready: async (page) => {
      await page.getByTestId("op-status").waitFor({ timeout: 30_000 });
      await page.getByTestId("lag-panel-blocks").waitFor({ timeout: 30_000 });
    },
  },
];

/** Every request of the page that failed or was answered with an error status. */
function recordFailures(page: Page): string[] {
  const failures: string[] = [];
  page.on("response", (response) => {
    if (response.status() >= 400) failures.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  page.on("requestfailed", (request) => {
    const error = request.failure()?.errorText ?? "";
    // A stream or fetch cut short by the page itself (navigation, an aborted refetch) is not a failure.
    if (error.includes("ERR_ABORTED")) return;
    failures.push(`${error} ${request.method()} ${request.url()}`);
  });
  return failures;
}

/** Opens `hash` as dev account `account` at `width`, with its failed requests recorded. */
async function open(params: { hash: string; width: number; account: number }): Promise<{ page: Page; failures: string[] }> {
  const page = await context.newPage();
  const failures = recordFailures(page);
  await useDevAccount(page, params.account);
  await page.setViewportSize({ width: params.width, height: params.width <= PHONE_MAX ? 844 : 900 });
  await page.goto(`${web.url}/${params.hash}`);
  return { page, failures };
}

/** How far the page is wider than the window (0 or less: no sideways scroll). */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** The innermost elements that reach past the window's right edge, for a failure's message. */
function pastTheEdge(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const past = Array.from(document.body.querySelectorAll<HTMLElement>("*")).filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5);
    return past
      .filter((el) => !past.some((other) => other !== el && el.contains(other)))
      .slice(0, 8)
      .map((el) => {
        const box = el.getBoundingClientRect();
        const name = el.dataset.testid ?? el.id ?? "";
        const classes = typeof el.className === "string" && el.className ? `.${el.className.split(" ").join(".")}` : "";
        return `${el.tagName.toLowerCase()}${classes}${name ? `#${name}` : ""} in ${el.parentElement?.className ?? ""}: ${box.left.toFixed(0)}-${box.right.toFixed(0)} px`;
      });
  });
}

/** Passes when nothing scrolls sideways; else fails naming what sticks out. */
async function expectNoOverflow(page: Page, what: string): Promise<void> {
  const by = await overflow(page);
  expect(by <= 0 ? [] : await pastTheEdge(page), `${what} scrolls sideways by ${by} px`).toEqual([]);
  expect(by).toBeLessThanOrEqual(0);
}

/** Buttons and fields drawn smaller than `min` × `min`, each named. */
function smallTargets(page: Page, min: number): Promise<string[]> {
  return page.evaluate((min) => {
    const controls = Array.from(document.querySelectorAll<HTMLElement>("button, input:not([type=hidden]), select, textarea"));
    return controls.flatMap((el) => {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === "hidden") return [];
      if (box.width >= min && box.height >= min) return [];
      const name = el.dataset.testid ?? el.getAttribute("aria-label") ?? el.textContent?.trim() ?? el.tagName;
      return [`${el.tagName.toLowerCase()} "${name}" ${box.width.toFixed(0)}×${box.height.toFixed(0)}`];
    });
  }, min);
}

type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Every check of the page at `width`: no sideways scroll, touch targets on a phone, axe-core. */
async function checkPage(page: Page, width: number, what: string): Promise<void> {
  await expect.poll(() => page.evaluate(() => window.innerWidth)).toBe(width);
  await expectNoOverflow(page, `${what} at ${width} px`);
  if (width <= PHONE_MAX) expect(await smallTargets(page, TOUCH), `${what} at ${width} px: controls under ${TOUCH} px`).toEqual([]);
  expect(await axeViolations(page), `${what} at ${width} px: axe-core`).toEqual([]);
}

/** The header's height in CSS pixels: on a phone, two rows of 44 px touch targets. */
function headerHeight(page: Page): Promise<number> {
  return page.evaluate(() => document.querySelector("header")?.getBoundingClientRect().height ?? Number.NaN);
}
const PHONE_HEADER_MAX = 112;

/** The page's icon: declared in the document and served as an SVG. */
async function checkFavicon(page: Page): Promise<void> {
  const href = await page.evaluate(() => document.querySelector<HTMLLinkElement>("link[rel~=icon]")?.href);
  expect(href, "the page declares an icon").toBeTruthy();
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toContain("image/svg+xml");
  expect((await response.text()).trim().startsWith("<svg")).toBe(true);
}

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      const admin = chamaAs({ chain, address, account: accounts[0]! });
      await admin.createChama("Mama Mboga Savers", 0n);
      await chamaAs({ chain, address, account: accounts[1]! }).createChama("Boda Boda Riders Welfare Group of Kisumu County", 1_000n * SAT);
      await admin.createChama("Harambee Investment Club", 10_000n * SAT);
      for (const [i, sats] of [[1, 1_000n], [2, 2_500n], [3, 12_345n], [1, 500n]] as const) {
        await chamaAs({ chain, address, account: accounts[i]! }).contribute(1n, sats * SAT);
      }
      await admin.payout(1n, accounts[2]!.address, 1_500n * SAT);
    },
    // A few lag samples for the operator page's charts.
    indexerEnv: { HEALTH_SAMPLE_INTERVAL_MS: "1000" },
  });
  ({ chain, web, context } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe.each(WIDTHS)("at %i px", (width) => {
  test.each(PAGES.map((visit) => [visit.name, visit] as const))("%s: no sideways scroll, touch targets, axe-core clean, no failed request", async (name, visit) => {
    const { page, failures } = await open({ hash: visit.hash(), width, account: 1 });
    await visit.ready(page);
    await checkPage(page, width, name);
    if (width <= PHONE_MAX) expect(await headerHeight(page)).toBeLessThanOrEqual(PHONE_HEADER_MAX);
    await checkFavicon(page);
    await page.screenshot({ path: screenshotPath(`layout-${name}-${width}`), fullPage: true });
    expect(failures).toEqual([]);
    await page.close();
  });

  test("a chama page with the review dialog open, then with a pending toast", async () => {
    const { page, failures } = await open({ hash: "#/chama/1", width, account: 4 });
    await PAGES[1]!.ready(page);
    await page.waitForSelector("[data-testid=stack-button]:not([disabled])", { timeout: 30_000 });
    await page.getByTestId("stack-button").click();
    await reviewReady(page);
    await checkPage(page, width, "review dialog");
    await page.screenshot({ path: screenshotPath(`layout-review-${width}`) });

    // Held pending (no block until the test mines one) so the toast can be looked at.
    await chain.testClient.setAutomine(false);
    try {
      await page.getByTestId("review-confirm").click();
      await closeReview(page);
      await page.locator("[data-testid=toast][data-status=pending]").waitFor({ timeout: 20_000 });
      await checkPage(page, width, "pending toast");
      await page.screenshot({ path: screenshotPath(`layout-toast-${width}`) });
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    await page.locator("[data-testid=toast][data-status=reconciled]").waitFor({ timeout: 30_000 });
    expect(failures).toEqual([]);
    await page.close();
  });
});

/** The widths outside the main two: 360 px, the narrowest phone the app is made for (where the
 * phone's checks apply too), and 720 px, a tablet between the phone's cards and the desktop's
 * tables. */
test.each([360, 720] as const)("at %i px, no page scrolls sideways", async (width) => {
  for (const visit of PAGES) {
    const { page, failures } = await open({ hash: visit.hash(), width, account: 1 });
    await visit.ready(page);
    await page.screenshot({ path: screenshotPath(`layout-${visit.name}-${width}`), fullPage: true });
    await expectNoOverflow(page, `${visit.name} at ${width} px`);
    if (width <= PHONE_MAX) {
      expect(await headerHeight(page)).toBeLessThanOrEqual(PHONE_HEADER_MAX);
      expect(await smallTargets(page, TOUCH), `${visit.name} at ${width} px: controls under ${TOUCH} px`).toEqual([]);
    }
    expect(failures).toEqual([]);
    await page.close();
  }
});
