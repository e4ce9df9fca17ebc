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
import { waitFor } from "../../scripts/lib/processes";
import { screenshotPath } from "./browser";
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
  const page = await context.newPage();
  await page.addInitScript((index) => localStorage.setItem("jenga.devAccount", String(index)), params.account);
  await page.goto(`${web.url}/#/chama/1`);
  await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
  await page.waitForSelector("[data-testid=stack-button]:not([disabled])", { timeout: 30_000 });
  expect(await page.getByTestId("wallet-address").getAttribute("href")).toBe(`#/account/${accounts[params.account]!.address.toLowerCase()}`);
  return page;
}

/** The optimistic rows with this test id, as (status, hash). */
async function rows(page: Page, testId: string) {
  return page.$$eval(`[data-testid=${testId}]`, (list) =>
    list.map((row) => ({ status: row.getAttribute("data-status"), hash: row.getAttribute("data-hash") })),
  );
}

/** The actions the browser's store holds for `account` (every tab shares it). */
async function storedActions(page: Page, account: Address) {
  const all = await page.evaluate(() => JSON.parse(localStorage.getItem("jenga.actions.v1") ?? "[]") as { account: string; dismissedAt?: number; status: string }[]);
  return all.filter((a) => a.account.toLowerCase() === account.toLowerCase());
}

/** Waits for the review's Confirm to be usable (its preview loaded). */
async function confirmReady(page: Page): Promise<void> {
  await page.waitForSelector("[data-testid=review-confirm]:not([disabled])", { timeout: 30_000 });
}

/** Closes the review dialog after its Confirm. */
async function closeReview(page: Page): Promise<void> {
  await page.getByTestId("review-close").click();
  await page.getByTestId("review-dialog").waitFor({ state: "detached" });
}

/** The first row's transaction hash once it has one. */
async function firstHash(page: Page, testId: string): Promise<Hex> {
  return waitFor({
    what: `a hash on the first ${testId}`,
    timeoutMs: 20_000,
    check: async () => ((await rows(page, testId)).find((r) => r.hash)?.hash as Hex | undefined) ?? undefined,
  });
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
    await confirmReady(page);
    await page.getByTestId("review-confirm").dblclick();
    await closeReview(page);

    const hash = await firstHash(page, "contribution-action-row");
    const indexed = page.locator(`[data-testid=contribution-row][data-hash="${hash}"]`);
    await expect.poll(() => indexed.textContent(), { timeout: 30_000 }).toContain("yours · indexed");
    await expect.poll(async () => (await rows(page, "contribution-action-row")).length, { timeout: 30_000 }).toBe(0);
    await page.screenshot({ path: screenshotPath("e2e-actions-1-double-click-one-send") });

    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 1);
    expect(await storedActions(page, account)).toHaveLength(1);
    await indexer.waitForBlock();
    const indexedRows = await indexer.graphql<{ contributions: { items: { transactionHash: string }[] } }>(
      `{ contributions(where: { contributor: "${account.toLowerCase()}" }) { items { transactionHash } } }`,
    );
    expect(indexedRows.data?.contributions.items.map((r) => r.transactionHash)).toEqual([hash]);
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
      await confirmReady(page);
      await page.getByTestId("review-confirm").click();
      await closeReview(page);
      hash = await firstHash(page, "payout-action-row");
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
