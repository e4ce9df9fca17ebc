/**
 * The action store in the browser's real IndexedDB (Debian's Chromium via playwright-core),
 * against a real anvil, the real indexer and the Vite dev server: the earlier store's
 * localStorage text, written before the app loads, is moved in once by two tabs opening together
 * (every action kept exactly, the key removed, one move counted); an action queued offline is
 * saved as its own record (no other record is written), survives a reload and is sent exactly
 * once; two tabs see each other's actions; an unreadable localStorage text is reported and does
 * not block the app; without IndexedDB the page says actions will not survive a reload, and
 * they do not. Records written are counted by wrapping IDBObjectStore's put in the page.
 */
import type { Address } from "viem";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { SAT } from "../../common/chain";
import { type WebServer } from "../../scripts/lib/web";
import { ACTIONS_DB_NAME } from "../../web/src/sync/idbStore";
import { DEFAULT_STORAGE_KEY, serializeActions } from "../../web/src/sync/store";
import type { Action } from "../../web/src/sync/types";
import { type Indexer } from "../_support/indexer";
import { accounts, type Chain, chamaAs } from "../_support/chain";
import { screenshotPath } from "./browser";
import { closeReview, indexedContributionHashes, openChamaPage, reviewReady, screenshotsAtWidths, sentHash, storedActions } from "./pages";
import { type WebStack, startWebStack } from "./stack";

let chain: Chain;
let indexer: Indexer;
let web: WebServer;
let stack: WebStack;
let context: BrowserContext;

/** Actions of the earlier store, on another chain (the engine leaves them alone). */
const MIGRATED = 150;
const OTHER_CHAIN = 999;
const BIG = 2n ** 70n + 1n;

type PutProbe = { __actionPuts?: string[] };

function savedAction(i: number): Action {
  const now = Date.now();
  return {
    id: `saved-${i}`,
    chainId: OTHER_CHAIN,
    account: accounts[3]!.address,
    params: { kind: "contribution", chamaId: 1n, amount: BIG + BigInt(i) },
    status: i % 3 === 0 ? "pending" : "failed",
    createdAt: now - 60_000 + i,
    updatedAt: now - 60_000 + i,
    hashes: [],
    ...(i % 3 === 0 ? {} : { error: { reason: "reverted", message: "reverted in block 9" } }),
  };
}

/** Writes localStorage of the app's origin from a blank page of it, before any app page loads. */
async function writeLocalStorage(key: string, value: string): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${web.url}/__blank`);
  await page.evaluate(([k, v]) => localStorage.setItem(k, v), [key, value] as const);
  await page.close();
}

async function readLocalStorage(page: Page, key: string): Promise<string | null> {
  return page.evaluate((k) => localStorage.getItem(k), key);
}

/** How often the earlier store was moved in (the database's meta record). */
async function migrationRuns(page: Page): Promise<number> {
  return page.evaluate(
    (name) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error ?? new Error("open failed"));
        open.onsuccess = () => {
          const get = open.result.transaction("meta").objectStore("meta").get("migration");
          get.onerror = () => reject(get.error ?? new Error("read failed"));
          get.onsuccess = () => {
            open.result.close();
            resolve((get.result as { runs: number } | undefined)?.runs ?? 0);
          };
        };
      }),
    ACTIONS_DB_NAME,
  );
}

/** The ids of the action records this page has written since it loaded (or since `reset`). */
async function actionPuts(page: Page, reset = false): Promise<string[]> {
  return page.evaluate((clear) => {
    const probe = window as unknown as PutProbe;
    const puts = probe.__actionPuts ?? [];
    if (clear) probe.__actionPuts = [];
    return puts;
  }, reset);
}

async function openChama(account: number): Promise<Page> {
  const page = await openChamaPage({ context, url: web.url, account });
  await page.waitForSelector("[data-testid=stack-button]:not([disabled])", { timeout: 30_000 });
  return page;
}

async function actionRows(page: Page) {
  return page.$$eval("[data-testid=contribution-action-row]", (rows) =>
    rows.map((row) => ({ status: row.getAttribute("data-status"), hash: row.getAttribute("data-hash") })),
  );
}

/** "Stack 1000 sats" and Confirm in the review. */
async function stack1000(page: Page): Promise<void> {
  await page.getByTestId("stack-button").click();
  await reviewReady(page);
  await page.getByTestId("review-confirm").click();
  await closeReview(page);
}

/** Cuts the page off from the chain and the indexer (the app itself is still served). */
async function goOffline(): Promise<() => Promise<void>> {
  const blocked = new Set([new URL(chain.rpcUrl).origin, new URL(indexer.url).origin]);
  const offline = (url: URL) => blocked.has(url.origin);
  await context.route(offline, (route) => route.abort("internetdisconnected"));
  return () => context.unroute(offline);
}

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      await chamaAs({ chain, address, account: accounts[0]! }).createChama("Store Savers", 0n);
    },
  });
  ({ chain, indexer, web, context } = stack);
  await context.route(`${web.url}/__blank`, (route) => route.fulfill({ contentType: "text/html", body: "<!doctype html><title>blank</title>" }));
  // Every page counts the action records it writes.
  await context.addInitScript(() => {
    const probe = window as unknown as PutProbe;
    probe.__actionPuts = [];
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === "actions") probe.__actionPuts!.push((value as { id: string }).id);
      return put.call(this, value, key);
    };
  });
}, 240_000);

// Each open tab holds the indexer's event streams, and Chromium allows 6 HTTP/1.1 connections
// per origin: a tab a failed test left open would starve the next test's pages.
afterEach(async () => {
  for (const page of context?.pages() ?? []) await page.close();
});

afterAll(async () => {
  await stack?.stop();
});

describe("the action store in IndexedDB, in Chromium", () => {
  test("the localStorage store is moved in once by two tabs opening together: every action kept, the key removed", async () => {
    const saved = Array.from({ length: MIGRATED }, (_, i) => savedAction(i));
    await writeLocalStorage(DEFAULT_STORAGE_KEY, serializeActions(saved));

    const [tabA, tabB] = await Promise.all([openChama(3), openChama(3)]);
    await expect.poll(async () => (await storedActions(tabA)).length, { timeout: 10_000 }).toBe(MIGRATED);
    const stored = (await storedActions(tabA)) as unknown as Action[];
    const byId = new Map(stored.map((a) => [a.id, a]));
    for (const action of saved) expect(byId.get(action.id)).toEqual(action);
    // Exact past 2^53, from the database's own structured clone.
    expect(byId.get("saved-7")!.params).toMatchObject({ amount: BIG + 7n });
    expect(await readLocalStorage(tabA, DEFAULT_STORAGE_KEY)).toBeNull();
    expect(await migrationRuns(tabA)).toBe(1);
    // The two tabs together wrote each record once.
    const puts = [...(await actionPuts(tabA)), ...(await actionPuts(tabB))];
    expect(puts.sort()).toEqual(saved.map((a) => a.id).sort());

    await tabB.reload();
    await tabB.getByTestId("chama-title").waitFor({ timeout: 30_000 });
    expect(await storedActions(tabB)).toHaveLength(MIGRATED);
    expect(await migrationRuns(tabB)).toBe(1);
    expect(await actionPuts(tabB)).toEqual([]);
    expect(await tabB.getByTestId("store-notices").count()).toBe(0);
    await tabA.close();
    await tabB.close();
  });

  test("an action queued offline is one record written alone, survives a reload, and is sent exactly once", async () => {
    const account: Address = accounts[3]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const page = await openChama(3);
    await actionPuts(page, true);

    const online = await goOffline();
    let draftId: string;
    try {
      await stack1000(page);
      await expect.poll(() => actionRows(page)).toEqual([{ status: "draft", hash: "" }]);
      const drafts = (await storedActions(page, account)).filter((a) => a.status === "draft") as unknown as Action[];
      expect(drafts).toHaveLength(1);
      draftId = drafts[0]!.id;
      expect(drafts[0]!.params).toEqual({ kind: "contribution", chamaId: 1n, amount: 1_000n * SAT });
      // Only the draft's record was written; the 150 others were not touched.
      const puts = await actionPuts(page);
      expect(puts.length).toBeGreaterThan(0);
      expect(new Set(puts)).toEqual(new Set([draftId]));
      expect(await storedActions(page)).toHaveLength(MIGRATED + 1);

      await page.reload();
      await expect.poll(() => actionRows(page), { timeout: 30_000 }).toEqual([{ status: "draft", hash: "" }]);
      await page.screenshot({ path: screenshotPath("store-1-offline-draft-after-reload") });
      expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore);
    } finally {
      await online();
    }

    const hash = await sentHash(page);
    await indexer.waitForBlock();
    await expect.poll(async () => (await storedActions(page, account)).find((a) => (a as unknown as Action).id === draftId)?.status, { timeout: 30_000 }).toBe("reconciled");
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 1);
    expect(await indexedContributionHashes(indexer, account)).toEqual([hash]);
    // Since the reload this page wrote that record alone (nonce, hash, receipt, reconciled).
    expect(new Set(await actionPuts(page))).toEqual(new Set([draftId]));
    await page.close();
  });

  test("two tabs see each other's actions at once, and each is sent once", async () => {
    const account: Address = accounts[4]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const tabA = await openChama(4);
    const tabB = await openChama(4);
    const online = await goOffline();
    try {
      await stack1000(tabA);
      await expect.poll(() => actionRows(tabB), { timeout: 5_000 }).toEqual([{ status: "draft", hash: "" }]);
      await stack1000(tabB);
      await expect.poll(async () => (await actionRows(tabA)).length, { timeout: 5_000 }).toBe(2);
      await tabA.screenshot({ path: screenshotPath("store-2-two-tabs-two-drafts") });
      const stored = await storedActions(tabA, account);
      expect(stored.map((a) => a.status)).toEqual(["draft", "draft"]);
    } finally {
      await online();
    }
    // Both engines try; the cross-tab lock and the stored copy let each draft go once.
    await expect.poll(async () => (await storedActions(tabA, account)).filter((a) => a.status === "reconciled").length, { timeout: 60_000 }).toBe(2);
    await expect.poll(async () => (await actionRows(tabA)).length, { timeout: 30_000 }).toBe(0);
    await expect.poll(async () => (await actionRows(tabB)).length, { timeout: 30_000 }).toBe(0);
    await indexer.waitForBlock();
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 2);
    expect((await indexedContributionHashes(indexer, account)).sort()).toEqual((await storedActions(tabA, account)).map((a) => a.hash).sort());
    await tabA.close();
    await tabB.close();
  });

  test("an unreadable localStorage store is reported, left in place, and the app works", async () => {
    await writeLocalStorage(DEFAULT_STORAGE_KEY, "[{not json");
    const page = await openChama(6);
    const notice = page.getByTestId("store-notice-legacy-unreadable");
    await notice.waitFor({ timeout: 10_000 });
    expect(await notice.textContent()).toMatch(/localStorage key "jenga\.actions\.v1".*unreadable.*left in place.*New actions are saved as usual/);
    expect(await readLocalStorage(page, DEFAULT_STORAGE_KEY)).toBe("[{not json");
    await screenshotsAtWidths(page, "store-3-unreadable-notice");

    const account: Address = accounts[6]!.address;
    await stack1000(page);
    const hash = await sentHash(page);
    await indexer.waitForBlock();
    await expect.poll(() => indexedContributionHashes(indexer, account), { timeout: 30_000 }).toEqual([hash]);
    await page.evaluate((key) => localStorage.removeItem(key), DEFAULT_STORAGE_KEY);
    await page.close();
  });

  test("without IndexedDB the page says actions will not survive a reload, and they do not", async () => {
    const account: Address = accounts[7]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const page = await context.newPage();
    // Reading window.indexedDB throws, as in some private modes; on every load of this page.
    await page.addInitScript(() => {
      Object.defineProperty(window, "indexedDB", {
        configurable: true,
        get() {
          throw new DOMException("IndexedDB is not allowed here", "SecurityError");
        },
      });
    });
    await page.addInitScript(() => localStorage.setItem("jenga.devAccount", "7"));
    await page.goto(`${web.url}/#/chama/1`);
    await page.waitForSelector("[data-testid=stack-button]:not([disabled])", { timeout: 30_000 });
    const notice = page.getByTestId("store-notice-memory-only");
    await notice.waitFor({ timeout: 10_000 });
    expect(await notice.textContent()).toContain("will not survive a reload");

    const online = await goOffline();
    try {
      await stack1000(page);
      await expect.poll(() => actionRows(page)).toEqual([{ status: "draft", hash: "" }]);
      await screenshotsAtWidths(page, "store-4-memory-only");
      // Still offline: the index cannot be read, so the chama page shows its error and the
      // store's own rows (none: the draft was in the old page's memory).
      await page.reload();
      await page.getByText("Could not load chama #1 from the index").waitFor({ timeout: 30_000 });
      await page.getByTestId("store-notice-memory-only").waitFor({ timeout: 10_000 });
      expect(await actionRows(page)).toEqual([]);
    } finally {
      await online();
    }
    // Back online the chama loads, and the lost draft is not listed and never sent.
    await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
    expect(await actionRows(page)).toEqual([]);
    expect(await page.getByTestId("store-notice-memory-only").count()).toBe(1);
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore);
    await page.close();
  });
});
