/**
 * The user's actions end to end in a real browser (Debian's Chromium via playwright-core)
 * against a real anvil, the real indexer and the Vite dev server: a double-click on Confirm
 * sends exactly one transaction; a payout that reverts on chain (its recipient turned into a
 * contract that refuses ether after the checks passed) shows no Retry, is not shown to another
 * account of the same browser, and once dismissed stays dismissed in the other tab and after a
 * reload. Screenshots go to test-results/.
 */
import type { Address, Hex } from "viem";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SAT } from "../../common/chain";
import { type WebServer } from "../../scripts/lib/web";
import { type Indexer } from "../_support/indexer";
import { accounts, type Chain, chamaAs } from "../_support/chain";
import { screenshotPath } from "./browser";
import { closeReview, indexedContributionHashes, openChamaPage, reviewReady, sentHash, storedActions } from "./pages";
import { type WebStack, startWebStack } from "./stack";

/** Code that reverts whatever it is sent: PUSH1 0, PUSH1 0, REVERT. */
const REVERTING_CODE: Hex = "0x60006000fd";
/** The payout's recipient: an address with no code until the test gives it some. */
const RECIPIENT: Address = "0x00000000000000000000000000000000000b0b01";

let chain: Chain;
let indexer: Indexer;
let web: WebServer;
let stack: WebStack;
let context: BrowserContext;

/** Opens chama 1 as dev account `account` and waits until its page and wallet are ready. */
async function openChama(params: { account: number }): Promise<Page> {
  const page = await openChamaPage({ context, url: web.url, account: params.account });
  await page.waitForSelector("[data-testid=stack-button]:not([disabled])", { timeout: 30_000 });
  return page;
}

/** The optimistic rows with this test id, as (status, hash). */
async function rows(page: Page, testId: string) {
  return page.$$eval(`[data-testid=${testId}]`, (list) =>
    list.map((row) => ({ status: row.getAttribute("data-status"), hash: row.getAttribute("data-hash") })),
  );
}

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      await chamaAs({ chain, address, account: accounts[0]! }).createChama("Dismiss Savers", 0n);
      // A pot for the payout.
      await chamaAs({ chain, address, account: accounts[5]! }).contribute(1n, 5_000n * SAT);
    },
  });
  ({ chain, indexer, web, context } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe("actions in Chromium", () => {
  test("a double-click on Confirm sends exactly one transaction", async () => {
    const account = accounts[1]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const page = await openChama({ account: 1 });

    await page.getByTestId("stack-button").click();
    await reviewReady(page);
    await page.getByTestId("review-confirm").dblclick();
    await closeReview(page);

    const hash = await sentHash(page);
    const indexed = page.locator(`[data-testid=contribution-row][data-hash="${hash}"]`);
    await expect.poll(() => indexed.textContent(), { timeout: 30_000 }).toContain("yours · indexed");
    await expect.poll(async () => (await rows(page, "contribution-action-row")).length, { timeout: 30_000 }).toBe(0);
    await page.screenshot({ path: screenshotPath("e2e-actions-1-double-click-one-send") });

    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 1);
    expect(await storedActions(page, account)).toHaveLength(1);
    await indexer.waitForBlock();
    expect(await indexedContributionHashes(indexer, account)).toEqual([hash]);
    await page.close();
  });

  test("a reverted payout: no Retry, not shown to another account, dismissed for good", async () => {
    const admin = accounts[0]!.address;
    const page = await openChama({ account: 0 });
    const otherTab = await openChama({ account: 0 });

    // The checks (the form's, the review's simulation, the engine's) all pass while the recipient
    // has no code; it gets reverting code while the payout waits in the mempool.
    await chain.testClient.setAutomine(false);
    let hash: Hex;
    try {
      await page.getByTestId("payout-recipient").fill(RECIPIENT);
      await page.getByTestId("payout-amount").fill("100");
      await page.getByTestId("payout-button").click();
      await reviewReady(page);
      await page.getByTestId("review-confirm").click();
      await closeReview(page);
      hash = await sentHash(page, { testId: "payout-action-row" });
      await chain.testClient.setCode({ address: RECIPIENT, bytecode: REVERTING_CODE });
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    expect((await chain.publicClient.getTransactionReceipt({ hash })).status).toBe("reverted");

    const row = page.locator("[data-testid=payout-action-row]");
    await expect.poll(() => rows(page, "payout-action-row"), { timeout: 30_000 }).toEqual([{ status: "failed", hash }]);
    expect(await row.getByTestId("retry").count()).toBe(0);
    expect(await row.getByTestId("dismiss").count()).toBe(1);
    await expect.poll(() => page.getByTestId("health-failed").textContent()).toBe("1");
    await page.screenshot({ path: screenshotPath("e2e-actions-2-reverted-no-retry"), fullPage: true });

    // Another dev account in the same browser: the store is shared, the row and count are not.
    const other = await openChama({ account: 2 });
    expect(await storedActions(other, admin), "this tab's store holds the failure").toMatchObject([{ status: "failed" }]);
    expect(await rows(other, "payout-action-row")).toEqual([]);
    expect(await other.getByTestId("health-failed").textContent()).toBe("0");
    await other.close();

    await row.getByTestId("dismiss").click();
    await expect.poll(() => rows(page, "payout-action-row")).toEqual([]);
    expect(await page.getByTestId("health-failed").textContent()).toBe("0");
    // The other tab of the same account drops it too.
    await expect.poll(() => rows(otherTab, "payout-action-row"), { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => otherTab.getByTestId("health-failed").textContent()).toBe("0");

    // After a reload it stays dismissed: kept in the store, not shown, not counted.
    await page.reload();
    await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
    expect(await rows(page, "payout-action-row")).toEqual([]);
    expect(await page.getByTestId("health-failed").textContent()).toBe("0");
    const stored = await storedActions(page, admin);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: "failed" });
    expect(stored[0]!.dismissedAt).toBeTypeOf("number");
    await page.screenshot({ path: screenshotPath("e2e-actions-3-dismissed-after-reload") });
    await page.close();
    await otherTab.close();
  });
});
