/**
 * What the browser tests do on the app's pages: open a chama as a dev account, go through the
 * review dialog, read the hash of a sent action, read the app's action store, and take
 * screenshots at a phone's width and a desktop's.
 */
import type { Address, Hex } from "viem";
import type { BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
import { waitFor } from "../../scripts/lib/processes";
import { ACTIONS_DB_NAME } from "../../web/src/sync/idbStore";
import { accounts } from "../_support/chain";
import type { Indexer } from "../_support/indexer";
import { screenshotPath } from "./browser";

/** The dev wallet's account index, as the app reads it from localStorage. */
const DEV_ACCOUNT_KEY = "jenga.devAccount";

/** Sets the dev wallet's account for every page load of `page`. */
export async function useDevAccount(page: Page, account: number): Promise<void> {
  await page.addInitScript(([key, index]) => localStorage.setItem(key, String(index)), [DEV_ACCOUNT_KEY, account] as const);
}

/** Opens chama `chamaId` (default 1) as dev account `account`, waits for its page and checks
 * the header shows that account. */
export async function openChamaPage(params: { context: BrowserContext; url: string; account: number; chamaId?: number }): Promise<Page> {
  const page = await params.context.newPage();
  await useDevAccount(page, params.account);
  await page.goto(`${params.url}/#/chama/${params.chamaId ?? 1}`);
  await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
  await expect
    .poll(() => page.getByTestId("wallet-address").getAttribute("href"), { timeout: 10_000 })
    .toBe(`#/account/${accounts[params.account]!.address.toLowerCase()}`);
  return page;
}

/** Waits until the review's chain reads have answered and Confirm is usable. */
export async function reviewReady(page: Page): Promise<void> {
  await page.waitForSelector("[data-testid=review-confirm]:not([disabled])", { timeout: 30_000 });
}

/** Closes the review dialog after its Confirm. */
export async function closeReview(page: Page): Promise<void> {
  await page.getByTestId("review-close").click();
  await page.getByTestId("review-dialog").waitFor({ state: "detached" });
}

/** Clicks "Stack 1000 sats", confirms the review once its preview is in, and closes it. */
export async function stackAndConfirm(page: Page): Promise<void> {
  await page.waitForSelector("[data-testid=stack-button]:not([disabled])", { timeout: 30_000 });
  await page.getByTestId("stack-button").click();
  await reviewReady(page);
  await page.getByTestId("review-confirm").click();
  await closeReview(page);
}

type StoredAction = { account: string; createdAt: number; hash?: string; status: string; dismissedAt?: number };

/** Every action in the app's store (IndexedDB, shared by the context's tabs), read from the
 * database itself; with `account`, that account's only. */
export async function storedActions(page: Page, account?: Address): Promise<StoredAction[]> {
  const all = await page.evaluate(
    (name) =>
      new Promise<StoredAction[]>((resolve, reject) => {
        const open = indexedDB.open(name);
        // No database yet: creating one here would leave it without the app's stores.
        let absent = false;
        open.onupgradeneeded = () => {
          absent = true;
          open.transaction?.abort();
        };
        open.onerror = () => (absent ? resolve([]) : reject(open.error ?? new Error(`cannot open ${name}`)));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains("actions")) {
            db.close();
            resolve([]);
            return;
          }
          const read = db.transaction("actions").objectStore("actions").getAll();
          read.onerror = () => reject(read.error ?? new Error("cannot read actions"));
          read.onsuccess = () => {
            db.close();
            resolve(read.result as StoredAction[]);
          };
        };
      }),
    ACTIONS_DB_NAME,
  );
  return account === undefined ? all : all.filter((a) => a.account.toLowerCase() === account.toLowerCase());
}

/**
 * The transaction hash of the newest action the page sent, once it has one: from its optimistic
 * row (`testId`), or from the store, which keeps it. A row's hash can be on screen for only a few
 * milliseconds: with automine and the pushed stream an action can go from sent to indexed, and
 * its row away, between two looks at the page. A timeout names the rows, the health panel and
 * whatever `diagnose` adds.
 */
export async function sentHash(page: Page, params: { testId?: string; diagnose?: () => Promise<string> } = {}): Promise<Hex> {
  const testId = params.testId ?? "contribution-action-row";
  const rowHashes = () => page.$$eval(`[data-testid=${testId}]`, (rows) => rows.map((row) => row.getAttribute("data-hash") ?? ""));
  try {
    return await waitFor({
      what: `the transaction hash of the newest ${testId}`,
      timeoutMs: 20_000,
      check: async () => {
        const shown = (await rowHashes()).find((hash) => hash.startsWith("0x"));
        if (shown) return shown as Hex;
        const newest = (await storedActions(page)).reduce<StoredAction | undefined>((a, b) => (a && a.createdAt >= b.createdAt ? a : b), undefined);
        return (newest?.hash as Hex | undefined) ?? undefined;
      },
    });
  } catch (error) {
    const health = (await page.getByTestId("sync-health").textContent().catch(() => "")) ?? "";
    const extra = params.diagnose ? `; ${await params.diagnose()}` : "";
    throw new Error(`${(error as Error).message}; rows ${JSON.stringify(await rowHashes())}; health ${health}${extra}`, { cause: error });
  }
}

/** The transaction hashes of `account`'s indexed contributions. */
export async function indexedContributionHashes(indexer: Indexer, account: Address): Promise<string[]> {
  const result = await indexer.graphql<{ contributions: { items: { transactionHash: string }[] } }>(
    `{ contributions(where: { contributor: "${account.toLowerCase()}" }) { items { transactionHash } } }`,
  );
  if (!result.data) throw new Error(`GraphQL read failed (${result.status}): ${JSON.stringify(result.errors)}`);
  return result.data.contributions.items.map((r) => r.transactionHash);
}

/** Full-page screenshots `<name>-390` and `<name>-1280` (test-results/), each checked for no
 * sideways scroll; the viewport is left at desktop width. */
export async function screenshotsAtWidths(page: Page, name: string): Promise<void> {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width < 800 ? 844 : 900 });
    await page.waitForFunction((w) => window.innerWidth === w, width);
    await page.screenshot({ path: screenshotPath(`${name}-${width}`), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  }
}
