/**
 * The web app end to end in a real browser (Debian's Chromium via playwright-core) against a
 * real anvil, the real indexer (`ponder start` on PostgreSQL) and the Vite dev server:
 * a stack, confirmed in the review step, shows as pending within 100 ms of Confirm and is
 * reconciled, also when the indexer's push of its block is lost; a forced reorg demotes it to
 * pending and it is re-confirmed; offline, an action survives a reload as a draft and is sent exactly once when the connection returns,
 * also with two tabs open; the operator page shows its four cards, the status and the lag
 * chart from /sync-health; the create form holds a name to the contract's byte limit, and a long
 * name is cut in the list. Screenshots go to test-results/.
 */
import type { Hex } from "viem";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type WebServer } from "../../scripts/lib/web";
import { ADMIN_TOKEN, type Indexer, postReconcile } from "../_support/indexer";
import { accounts, type Chain, chamaAs } from "../_support/chain";
import { waitFor } from "../../scripts/lib/processes";
import { MAX_NAME_BYTES, nameBytes } from "../../common/chain";
import { screenshotPath } from "./browser";
import { closeReview, indexedContributionHashes, openChamaPage, reviewReady, sentHash, useDevAccount } from "./pages";
import { type WebStack, startWebStack } from "./stack";

let chain: Chain;
let indexer: Indexer;
let web: WebServer;
let stack: WebStack;
let context: BrowserContext;

type Probe = { __clickAt?: number; __rowAt?: number; __rowStatus?: string };

/** Opens chama 1 as dev account `account` and waits until the stack button is usable. */
async function openChama(params: { account: number }): Promise<Page> {
  const page = await openChamaPage({ context, url: web.url, account: params.account });
  await page.waitForSelector("[data-testid=stack-button]:not([disabled])", { timeout: 30_000 });
  return page;
}

/** The user's optimistic contribution rows, as (status, reorged, hash). */
async function actionRows(page: Page) {
  return page.$$eval("[data-testid=contribution-action-row]", (rows) =>
    rows.map((row) => ({
      status: row.getAttribute("data-status"),
      reorged: row.getAttribute("data-reorged") === "true",
      hash: row.getAttribute("data-hash"),
    })),
  );
}

/** Waits until the optimistic row is gone and the indexed row of `hash` is marked as the user's. */
async function waitReconciledRow(page: Page, hash: string) {
  const row = page.locator(`[data-testid=contribution-row][data-hash="${hash}"]`);
  await row.waitFor({ timeout: 30_000 });
  await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain("yours · indexed");
  await expect.poll(async () => (await actionRows(page)).length, { timeout: 30_000 }).toBe(0);
}

/** Confirms the open review dialog once its preview has loaded, then closes it. */
async function confirmReview(page: Page): Promise<void> {
  await reviewReady(page);
  await page.getByTestId("review-confirm").click();
  await closeReview(page);
}

/** Clicks "Stack 1000 sats", then Confirm in the review, and measures, in the page, the time
 * from the Confirm click until the pending row is drawn. */
async function clickStack(page: Page): Promise<{ ms: number; firstStatus: string }> {
  await page.getByTestId("stack-button").click();
  await page.waitForSelector("[data-testid=review-confirm]:not([disabled])", { timeout: 30_000 });
  // The review sends nothing: no row until Confirm.
  expect(await page.locator("[data-testid=contribution-action-row]").count()).toBe(0);
  await page.evaluate(() => {
    const probe = window as unknown as Probe;
    probe.__clickAt = undefined;
    probe.__rowAt = undefined;
    document.addEventListener(
      "click",
      (event) => {
        if ((event.target as Element).closest("[data-testid=review-confirm]")) probe.__clickAt = performance.now();
      },
      { capture: true, once: true },
    );
    const observer = new MutationObserver(() => {
      const row = document.querySelector("[data-testid=contribution-action-row]");
      if (row && probe.__rowAt === undefined) {
        probe.__rowAt = performance.now();
        probe.__rowStatus = row.getAttribute("data-status") ?? "";
        observer.disconnect();
      }
    });
    observer.observe(document.body, { childList: true, subtree: true });
  });
  await page.getByTestId("review-confirm").click();
  const probe = await waitFor({
    what: "the pending row to be drawn",
    timeoutMs: 5_000,
    intervalMs: 10,
    check: () => page.evaluate(() => {
      const p = window as unknown as Probe;
      return p.__rowAt !== undefined && p.__clickAt !== undefined ? { ms: p.__rowAt - p.__clickAt, firstStatus: p.__rowStatus ?? "" } : undefined;
    }),
  });
  await closeReview(page);
  return probe;
}

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      await chamaAs({ chain, address, account: accounts[0]! }).createChama("E2E Savers", 0n);
    },
    // The operator page's test runs a reconciliation and wants a few lag samples for its chart.
    indexerEnv: { ADMIN_TOKEN, HEALTH_SAMPLE_INTERVAL_MS: "1000" },
  });
  ({ chain, indexer, web, context } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe("web app in Chromium", () => {
  test("stack: a pending row within 100 ms, then reconciled with the indexed row", async () => {
    const page = await openChama({ account: 1 });
    const { ms, firstStatus } = await clickStack(page);
    console.log(`pending row drawn ${ms.toFixed(1)} ms after the click`);
    expect(ms).toBeLessThan(100);
    expect(["draft", "pending"]).toContain(firstStatus);
    await page.screenshot({ path: screenshotPath("e2e-1-stack-pending") });

    const hash = await sentHash(page);
    await waitReconciledRow(page, hash);
    await page.screenshot({ path: screenshotPath("e2e-1-stack-reconciled") });
    // On a phone the chama page never scrolls sideways: its tables become cards.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: screenshotPath("e2e-1-stack-reconciled-390"), fullPage: true });
    const receipt = await chain.publicClient.getTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    expect(receipt.from.toLowerCase()).toBe(accounts[1]!.address.toLowerCase());
    await page.close();
  });

  test("a lost push: the page still learns of the indexed block and shows the row", async () => {
    // Every live stream connects and never speaks, as when a block commits while it connects.
    const live = (url: URL) => url.pathname === "/sql/live";
    let streams = 0;
    await context.route(live, () => {
      streams++;
    });
    try {
      const page = await openChama({ account: 6 });
      await clickStack(page);
      const hash = await sentHash(page);
      await waitReconciledRow(page, hash);
      expect(streams).toBeGreaterThan(0);
      const receipt = await chain.publicClient.getTransactionReceipt({ hash });
      expect(await page.getByTestId("health-indexed").textContent()).toBe(receipt.blockNumber.toString());
      await page.close();
    } finally {
      await context.unroute(live);
    }
  });

  test("reorg: the reconciled row goes back to pending, then is re-confirmed", async () => {
    const page = await openChama({ account: 3 });
    const snapshot = await chain.testClient.snapshot();
    await clickStack(page);
    const hash = await sentHash(page);
    await waitReconciledRow(page, hash);
    const raw = (await chain.testClient.request({ method: "eth_getRawTransactionByHash" as never, params: [hash] as never })) as Hex;

    // Replace the block with a longer chain without it; the transaction waits in the mempool.
    await chain.testClient.revert({ id: snapshot });
    await chain.testClient.setAutomine(false);
    try {
      await chain.testClient.mine({ blocks: 2 });
      await chain.publicClient.request({ method: "eth_sendRawTransaction", params: [raw] });
      await expect
        .poll(() => actionRows(page), { timeout: 30_000 })
        .toEqual([{ status: "pending", reorged: true, hash }]);
      await expect.poll(() => page.getByTestId("status-badge").first().textContent()).toBe("pending · reorged");
      await page.screenshot({ path: screenshotPath("e2e-2-reorg-demoted") });
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    await waitReconciledRow(page, hash);
    await page.screenshot({ path: screenshotPath("e2e-2-reorg-reconfirmed") });
    expect((await chain.publicClient.getTransactionReceipt({ hash })).status).toBe("success");
    await page.close();
  });

  test("offline: the action survives a reload as a draft and is sent exactly once on reconnect", async () => {
    const account = accounts[2]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const page = await openChama({ account: 2 });

    // The chain's RPC and the indexer become unreachable; the app itself is still served.
    const blocked = new Set([new URL(chain.rpcUrl).origin, new URL(indexer.url).origin]);
    const offline = (url: URL) => blocked.has(url.origin);
    await context.route(offline, (route) => route.abort("internetdisconnected"));

    await clickStack(page);
    await expect.poll(() => actionRows(page)).toEqual([{ status: "draft", reorged: false, hash: "" }]);
    await expect.poll(() => page.getByTestId("health-drafts").textContent()).toBe("1");
    await expect.poll(() => page.getByTestId("health-connection").textContent()).toContain("chain unreachable");
    await page.screenshot({ path: screenshotPath("e2e-3-offline-draft") });

    await page.reload();
    await expect.poll(() => actionRows(page), { timeout: 30_000 }).toEqual([{ status: "draft", reorged: false, hash: "" }]);
    await expect.poll(() => page.getByTestId("health-connection").textContent()).toContain("chain unreachable");
    await page.screenshot({ path: screenshotPath("e2e-3-offline-after-reload") });
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore);

    // Back online: the stream's reconnect is the cue; the draft is sent once.
    await context.unroute(offline);
    const hash = await sentHash(page);
    await waitReconciledRow(page, hash);
    await page.screenshot({ path: screenshotPath("e2e-3-online-sent-once") });

    await indexer.waitForBlock();
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 1);
    expect(await indexedContributionHashes(indexer, account)).toEqual([hash]);
    await page.close();
  });

  test("two tabs: a draft made offline in one is seen by both and sent once", async () => {
    const account = accounts[4]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const tabA = await openChama({ account: 4 });
    const tabB = await openChama({ account: 4 });

    const blocked = new Set([new URL(chain.rpcUrl).origin, new URL(indexer.url).origin]);
    const offline = (url: URL) => blocked.has(url.origin);
    await context.route(offline, (route) => route.abort("internetdisconnected"));
    await clickStack(tabA);
    // The other tab learns of it through storage events, without the network.
    await expect.poll(() => actionRows(tabB)).toEqual([{ status: "draft", reorged: false, hash: "" }]);

    // Both tabs' engines try when the connection returns; the cross-tab lock lets one send.
    await context.unroute(offline);
    const hash = await sentHash(tabA);
    await waitReconciledRow(tabA, hash);
    await waitReconciledRow(tabB, hash);
    await tabB.screenshot({ path: screenshotPath("e2e-4-two-tabs-sent-once") });
    await indexer.waitForBlock();
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 1);
    await tabA.close();
    await tabB.close();
  });

  test("operator page: the four cards, the status and the lag chart from /sync-health", async () => {
    // A fresh block, indexed and reconciled, so "last sync" and the indexer's count are real values.
    await chain.testClient.mine({ blocks: 1 });
    await indexer.waitForBlock();
    const reconciled = await postReconcile(indexer.url, ADMIN_TOKEN);
    expect(reconciled.status).toBe(200);
    expect(reconciled.body.discrepancies).toEqual([]);

    const page = await context.newPage();
    await useDevAccount(page, 5);
    await page.goto(`${web.url}/#/`);
    await page.getByTestId("operator-link").click();
    await page.getByTestId("operator-page").waitFor({ timeout: 30_000 });
    await page.getByTestId("op-status").waitFor({ timeout: 30_000 });

    expect(["ok", "lagging"]).toContain(await page.getByTestId("op-status").textContent());
    // Every member's actions of the tests above are settled: none pending, none failed.
    await expect.poll(() => page.getByTestId("op-pending-value").textContent(), { timeout: 20_000 }).toBe("0");
    expect(await page.getByTestId("op-failed-value").textContent()).toBe("0");
    expect(await page.getByTestId("op-pending").textContent()).toContain("every member's, from the ledger");
    const age = Number(await page.locator("[data-testid=op-last-sync-value] [data-age-seconds]").getAttribute("data-age-seconds"));
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    expect(await page.getByTestId("op-last-sync-value").textContent()).toMatch(/^\d+ s ago$/);
    expect(await page.getByTestId("op-discrepancies-indexer").textContent()).toBe("0");
    expect(await page.getByTestId("op-discrepancies-client").textContent()).toBe("0");
    expect(await page.getByTestId("operator-error").count()).toBe(0);

    const chart = page.getByTestId("lag-chart");
    await chart.waitFor({ timeout: 30_000 });
    expect(Number(await chart.getAttribute("data-samples"))).toBeGreaterThan(0);
    expect(await chart.locator("polyline").count()).toBe(2);
    expect(await chart.locator("polyline.lag-blocks").getAttribute("points")).toMatch(/^[\d.]+,[\d.]+/);

    // A newly indexed block is pushed and the page refetches: the indexed block follows the chain.
    await chain.testClient.mine({ blocks: 1 });
    const head = await chain.publicClient.getBlockNumber();
    await expect.poll(() => page.getByTestId("op-lag").textContent(), { timeout: 30_000 }).toContain(`indexed ${head}`);
    await page.screenshot({ path: screenshotPath("e2e-5-operator"), fullPage: true });

    // The indexer unreachable: the page says so instead of crashing; the client's cards still show.
    const indexerOrigin = new URL(indexer.url).origin;
    const offline = (url: URL) => url.origin === indexerOrigin;
    await context.route(offline, (route) => route.abort("internetdisconnected"));
    try {
      await page.reload();
      await expect.poll(() => page.getByTestId("operator-error").textContent(), { timeout: 30_000 }).toContain("indexer unreachable");
      // Every member's counts come from /sync-health: with no answer they are unknown, never 0.
      expect(await page.getByTestId("op-pending-value").textContent()).toBe("unknown");
      expect(await page.getByTestId("op-failed-value").textContent()).toBe("unknown");
      await page.screenshot({ path: screenshotPath("e2e-5-operator-indexer-unreachable"), fullPage: true });
    } finally {
      await context.unroute(offline);
    }
    await page.close();
  });

  test("create form: counts the name in UTF-8 bytes, sends nothing over the limit, and the list cuts a long name", async () => {
    const account = accounts[7]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const page = await context.newPage();
    await useDevAccount(page, 7);
    await page.goto(`${web.url}/#/`);
    await page.getByTestId("chama-row").first().waitFor({ timeout: 30_000 });
    await page.getByTestId("wallet-address").waitFor({ timeout: 30_000 });
    const input = page.getByTestId("chama-name-input");
    const button = page.getByTestId("create-chama-button");
    const hint = page.getByTestId("chama-name-bytes");
    expect(MAX_NAME_BYTES).toBe(64);

    // Empty, or only spaces (the name is sent trimmed): nothing to send, and no error yet.
    expect(await hint.textContent()).toBe("0/64 bytes");
    expect(await button.isDisabled()).toBe(true);
    await input.fill("   ");
    expect(await hint.textContent()).toBe("0/64 bytes");
    expect(await button.isDisabled()).toBe(true);
    expect(await page.getByTestId("chama-name-error").count()).toBe(0);

    // 17 characters but 68 bytes: over the limit, said inline; neither the button nor Enter sends it.
    await input.fill("🌍".repeat(17));
    expect(await hint.textContent()).toBe("68/64 bytes");
    expect(await page.getByTestId("chama-name-error").textContent()).toContain("at most 64 bytes");
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    expect(await button.isDisabled()).toBe(true);
    await input.press("Enter");
    await page.screenshot({ path: screenshotPath("e2e-6-create-name-too-long") });

    // Exactly the limit, in 52 characters and without a space to wrap at: accepted and sent.
    const name = "Akiba_ya_Wanawake_Jasiri_wa_Kibera_na_Mathare_é🌍🌍🌍🌍";
    expect(nameBytes(name)).toBe(MAX_NAME_BYTES);
    await input.fill(name);
    expect(await hint.textContent()).toBe("64/64 bytes");
    expect(await page.getByTestId("chama-name-error").count()).toBe(0);
    await button.click();
    await confirmReview(page);
    const link = page.locator(`[data-testid=chama-name][title="${name}"]`);
    await link.waitFor({ timeout: 30_000 });
    // Only the one chama was sent: the over-limit name left no action behind, not even a failed one.
    await expect.poll(() => page.getByTestId("chama-action-row").count(), { timeout: 30_000 }).toBe(0);
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 1);

    // The cell cuts the name with an ellipsis (the title has it whole) and the table fits its column.
    const fit = await link.evaluate((a) => {
      const table = a.closest("table")!;
      return {
        cut: a.scrollWidth > a.clientWidth,
        ellipsis: getComputedStyle(a).textOverflow,
        tableWidth: table.getBoundingClientRect().width,
        columnWidth: table.parentElement!.clientWidth,
      };
    });
    expect(fit.cut).toBe(true);
    expect(fit.ellipsis).toBe("ellipsis");
    expect(fit.tableWidth).toBeLessThanOrEqual(fit.columnWidth);
    await page.screenshot({ path: screenshotPath("e2e-6-create-long-name-listed"), fullPage: true });
    await page.setViewportSize({ width: 360, height: 800 });
    await page.screenshot({ path: screenshotPath("e2e-6-create-long-name-listed-360"), fullPage: true });
    await page.close();
  });
});
