/**
 * The action toasts in Chromium against a real anvil, the real indexer and the Vite dev server:
 * a stack, confirmed in the review, gets a toast that says what it is in words and follows it
 * from pending through confirmed to indexed, with the transaction's hash, a Copy that puts the
 * whole hash on the clipboard and says "copied", and the explorer link (VITE_EXPLORER_URL);
 * the toast closes by itself once indexed and a reload brings back no finished one. A payout
 * reverted on chain keeps its toast, with the contract's error in words, until closed. A member who
 * is not the admin is told who can pay out instead of seeing the payout form. Screenshots at
 * 390 px and 1280 px go to test-results/.
 */
import { type Address, type Hex, getAddress } from "viem";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { WebServer } from "../../scripts/lib/web";
import { waitFor } from "../../scripts/lib/processes";
import { accounts, type Chain, chamaAs } from "../_support/chain";
import { SAT } from "../../common/chain";
import { AUTO_CLOSE_MS } from "../../web/src/toasts";
import { screenshotPath } from "./browser";
import { openChamaPage, stackAndConfirm } from "./pages";
import { type WebStack, startWebStack } from "./stack";

const EXPLORER = "https://explorer.example/chain/31337";
const CHAMA_NAME = "Mama Mboga Savers";
/** Code that reverts whatever it is sent: PUSH1 0, PUSH1 0, REVERT. */
const REVERTING_CODE: Hex = "0x60006000fd";
/** A payout's recipient with no code until the test gives it some. */
const RECIPIENT: Address = "0x00000000000000000000000000000000000b0b02";

let stack: WebStack;
let chain: Chain;
let web: WebServer;
let context: BrowserContext;

type Probe = { __toastStatuses?: string[] };

/** Opens chama 1 as dev account `account` and waits for its page. */
function openChama(params: { account: number }): Promise<Page> {
  return openChamaPage({ context, url: web.url, account: params.account });
}

/** Records, in the page, every status the first toast shows, in order. */
async function recordToastStatuses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const probe = window as unknown as Probe;
    probe.__toastStatuses = [];
    const note = () => {
      const status = document.querySelector("[data-testid=toast]")?.getAttribute("data-status");
      const seen = probe.__toastStatuses!;
      if (status && seen[seen.length - 1] !== status) seen.push(status);
    };
    new MutationObserver(note).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-status"] });
  });
}

/** The toast's current status attribute. */
const toastStatus = (page: Page) => page.getByTestId("toast").getAttribute("data-status");

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      await chamaAs({ chain, address, account: accounts[0]! }).createChama(CHAMA_NAME, 0n);
      // A pot to pay out from.
      await chamaAs({ chain, address, account: accounts[5]! }).contribute(1n, 5_000n * SAT);
    },
    webConfig: { explorerUrl: EXPLORER },
  });
  ({ chain, web, context } = stack);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: web.url });
});

afterAll(async () => {
  await stack?.stop();
});

describe("action toasts in Chromium", () => {
  test("a stack's toast: its words, pending -> confirmed -> indexed, the hash, Copy and the explorer link; then it closes by itself", async () => {
    const page = await openChama({ account: 1 });
    expect(await page.getByTestId("toast").count()).toBe(0);
    await recordToastStatuses(page);

    // Blocks only when the test mines one, so the pending toast can be looked at.
    await chain.testClient.setAutomine(false);
    let hash: Hex;
    try {
      await stackAndConfirm(page);
      const toast = page.getByTestId("toast");
      await toast.waitFor({ timeout: 5_000 });
      expect(await toast.getAttribute("role")).toBe("status");
      expect(await toast.getAttribute("aria-live")).toBe("polite");
      expect(await page.getByTestId("toast-words").textContent()).toBe(`Contribute 1,000 sats to #1 ${CHAMA_NAME}`);

      await expect.poll(() => toastStatus(page), { timeout: 20_000 }).toBe("pending");
      expect(await page.getByTestId("toast-status").textContent()).toBe("Sent, waiting for a block.");
      hash = (await page.getByTestId("toast-hash").getAttribute("data-hash")) as Hex;
      expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(await page.getByTestId("toast-hash").textContent()).toBe(`${hash.slice(0, 6)}…${hash.slice(-4)}`);
      // The same transaction as the pending row on the page.
      expect(await page.locator("[data-testid=contribution-action-row]").getAttribute("data-hash")).toBe(hash);
      // The explorer link, opening in a new tab without handing it this page.
      const link = page.getByTestId("toast-explorer");
      expect(await link.getAttribute("href")).toBe(`${EXPLORER}/tx/${hash}`);
      expect(await link.getAttribute("target")).toBe("_blank");
      expect(await link.getAttribute("rel")).toContain("noopener");

      // Copy puts the whole hash on the clipboard and says so.
      await page.evaluate(() => navigator.clipboard.writeText("nothing yet"));
      expect(await page.getByTestId("toast-copied").count()).toBe(0);
      await page.getByTestId("toast-copy").click();
      await page.getByTestId("toast-copied").waitFor({ timeout: 2_000 });
      expect(await page.getByTestId("toast-copied").textContent()).toBe("copied");
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(hash);

      await page.screenshot({ path: screenshotPath("toast-1280-pending") });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: screenshotPath("toast-390-pending") });
      // On a phone the toast spans the screen's width, inside it, at the bottom.
      const box = await page.getByTestId("toast").boundingBox();
      expect(box).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
      expect(box!.width).toBeGreaterThan(390 * 0.9);
      expect(box!.y + box!.height).toBeGreaterThan(844 - 40);
      await page.setViewportSize({ width: 1280, height: 900 });

      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }

    await expect.poll(() => toastStatus(page), { timeout: 30_000 }).toBe("reconciled");
    expect(await page.getByTestId("toast-status").textContent()).toBe("Indexed: it shows in the lists.");
    expect(await page.getByTestId("status-badge").first().textContent()).toBe("indexed");
    await page.screenshot({ path: screenshotPath("toast-1280-indexed") });
    const statuses = await page.evaluate(() => (window as unknown as Probe).__toastStatuses ?? []);
    // In order, never back; confirmed may pass between two renders when the index is quick.
    expect(statuses.filter((s) => s !== "draft" && s !== "confirmed")).toEqual(["pending", "reconciled"]);
    expect(statuses.slice(-1)).toEqual(["reconciled"]);
    expect(["draft", "pending", "confirmed", "reconciled"].filter((s) => statuses.includes(s))).toEqual(statuses);
    const receipt = await chain.publicClient.getTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");

    // It closes by itself a few seconds after it was indexed.
    await page.getByTestId("toast").waitFor({ state: "detached", timeout: AUTO_CLOSE_MS + 5_000 });
    // A reload brings back no finished toast.
    await page.reload();
    await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
    await page.locator(`[data-testid=contribution-row][data-hash="${hash}"]`).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("toast").count()).toBe(0);
    await page.close();
  });

  test("a toast closed by hand stays closed, also after a reload while its action is still open", async () => {
    const page = await openChama({ account: 2 });
    await chain.testClient.setAutomine(false);
    try {
      await stackAndConfirm(page);
      await expect.poll(() => toastStatus(page), { timeout: 20_000 }).toBe("pending");
      await page.getByTestId("toast-close").click();
      expect(await page.getByTestId("toast").count()).toBe(0);
      await page.reload();
      await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
      // The row is back (the action is open), the closed toast is not.
      await page.locator("[data-testid=contribution-action-row][data-status=pending]").waitFor({ timeout: 20_000 });
      expect(await page.getByTestId("toast").count()).toBe(0);

      // Another tab of the same account follows the still-open action with its own toast.
      const other = await openChama({ account: 2 });
      await expect.poll(() => toastStatus(other), { timeout: 20_000 }).toBe("pending");
      await other.close();
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    await waitFor({
      what: "the closed toast's action to be indexed",
      timeoutMs: 30_000,
      check: async () => ((await page.locator("[data-testid=contribution-action-row]").count()) === 0 ? true : undefined),
    });
    expect(await page.getByTestId("toast").count()).toBe(0);
    await page.close();
  });

  test("a payout that reverts on chain: its toast says why in words and stays until closed", async () => {
    const recipient = `${getAddress(RECIPIENT).slice(0, 6)}…${getAddress(RECIPIENT).slice(-4)}`;
    const page = await openChama({ account: 0 });
    await page.getByTestId("payout-button").waitFor({ timeout: 10_000 });
    // Every check before signing passes while the recipient has no code; it gets reverting code
    // while the payout waits in the mempool.
    await chain.testClient.setAutomine(false);
    try {
      await page.getByTestId("payout-recipient").fill(RECIPIENT);
      await page.getByTestId("payout-amount").fill("100");
      await page.getByTestId("payout-button").click();
      await page.waitForSelector("[data-testid=review-confirm]:not([disabled])", { timeout: 30_000 });
      await page.getByTestId("review-confirm").click();
      await page.getByTestId("review-close").click();
      await expect.poll(() => toastStatus(page), { timeout: 20_000 }).toBe("pending");
      expect(await page.getByTestId("toast-words").textContent()).toBe(`Pay out 100 sats from #1 ${CHAMA_NAME} to ${recipient}`);
      await chain.testClient.setCode({ address: RECIPIENT, bytecode: REVERTING_CODE });
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    await expect.poll(() => toastStatus(page), { timeout: 30_000 }).toBe("failed");
    const row = page.locator("[data-testid=payout-action-row]");
    const sentence = await page.getByTestId("toast-status").textContent();
    // The same words as the row: the contract's error as a sentence, not raw data.
    expect(await row.locator(".detail").textContent()).toContain(sentence);
    expect(sentence).toBe(`The recipient ${recipient} refused the transfer (a contract that does not accept coin); pay another address.`);
    await page.screenshot({ path: screenshotPath("toast-1280-failed") });

    // Still there well after an indexed one would have closed; × closes it.
    await page.waitForTimeout(AUTO_CLOSE_MS + 1_000);
    expect(await page.getByTestId("toast").getAttribute("data-status")).toBe("failed");
    await page.getByTestId("toast-close").click();
    expect(await page.getByTestId("toast").count()).toBe(0);
    // Closing the toast is not dismissing the failure: the row stays, with its Dismiss.
    expect(await row.getAttribute("data-status")).toBe("failed");
    expect(await row.getByTestId("dismiss").count()).toBe(1);
    await page.close();
  });

  test("a member who is not the admin is told who can pay out, and sees no payout form", async () => {
    const member = await openChama({ account: 1 });
    const sentence = member.getByTestId("payout-admin-only");
    await sentence.waitFor({ timeout: 10_000 });
    // The index keeps addresses lowercase, as the chama's Admin line shows them.
    const admin = accounts[0]!.address.toLowerCase();
    expect(await sentence.textContent()).toBe(`Only the admin ${admin.slice(0, 6)}…${admin.slice(-4)} can pay out from this chama.`);
    expect(await sentence.locator("a").getAttribute("href")).toBe(`#/account/${admin}`);
    expect(await member.getByTestId("payout-button").count()).toBe(0);
    expect(await member.getByTestId("payout-recipient").count()).toBe(0);
    await member.setViewportSize({ width: 390, height: 844 });
    await member.screenshot({ path: screenshotPath("toast-390-non-admin"), fullPage: true });
    await member.close();

    const owner = await openChama({ account: 0 });
    await owner.getByTestId("payout-button").waitFor({ timeout: 10_000 });
    expect(await owner.getByTestId("payout-admin-only").count()).toBe(0);
    await owner.close();
  });
});
