/**
 * Money never moves by surprise, in a real browser (Debian's Chromium via playwright-core)
 * against a real anvil, the real indexer and the Vite dev server: amounts typed with a comma,
 * an exponent or a space are refused inline and send nothing; the review step shows the
 * amount in all three units, the fee and the balance before and after, and Cancel sends
 * nothing; a double-click on Confirm sends one transaction; Stack is disabled, with its
 * reason, below a chama's minimum; an all-uppercase recipient address pays out.
 * Screenshots of the review dialog at 390 and 1280 px go to test-results/.
 */
import type { Address } from "viem";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type WebServer } from "../../scripts/lib/web";
import { type Indexer } from "../_support/indexer";
import { accounts, type Chain, chamaAs } from "../_support/chain";
import { SAT } from "../../common/chain";
import { ChamaAbi } from "../../abis/ChamaAbi";
import { formatAmount, parseAmount, type Unit } from "../../web/src/units";
import { screenshotPath } from "./browser";
import { indexedContributionHashes, openChamaPage, reviewReady, sentHash, storedActions } from "./pages";
import { type WebStack, startWebStack } from "./stack";

let chain: Chain;
let indexer: Indexer;
let web: WebServer;
let stack: WebStack;
let context: BrowserContext;
let address: Address;

/** Chama 1 has no minimum and account #0 as admin; chama 2's minimum is 10,000 sats. */
const OPEN_CHAMA = 1;
const HIGH_MINIMUM_CHAMA = 2;
const HIGH_MINIMUM = 10_000n * SAT;

/** Opens chama `chamaId` as dev account `account` and waits until its page can act. */
function openChama(params: { account: number; chamaId: number }): Promise<Page> {
  return openChamaPage({ context, url: web.url, ...params });
}

/** Switches the unit select. */
async function setUnit(page: Page, unit: Unit) {
  await page.getByTestId("unit-select").selectOption(unit);
}

/** Every optimistic row on the page (contributions and payouts). */
async function actionRowCount(page: Page): Promise<number> {
  return page.locator("[data-testid=contribution-action-row], [data-testid=payout-action-row]").count();
}

/** The text of a test id. */
async function text(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? "";
}

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
    const admin = chamaAs({ chain, address, account: accounts[0]! });
        await admin.createChama("Money Savers", 0n);
      await admin.createChama("High Minimum", HIGH_MINIMUM);
      await admin.contribute(BigInt(OPEN_CHAMA), 50_000n * SAT);
    },
  });
  ({ chain, address, indexer, web, context } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe("money in Chromium", () => {
  test("1,5 / 1,000 / 1e3 / 1 000: refused inline as typed, in sats and in ether, and nothing is sent", async () => {
    const account = accounts[5]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const page = await openChama({ account: 5, chamaId: OPEN_CHAMA });
    const input = page.getByTestId("custom-amount");
    const button = page.getByTestId("contribute-button");
    const comma = "Use a point for decimals: write 1.5, not 1,5. Thousands separators are not accepted.";
    const cases = [
      { typed: "1,5", error: comma },
      { typed: "1,000", error: comma },
      { typed: "1e3", error: "Write the amount in plain digits: exponents such as 1e3 are not accepted (write 1000, not 1e3)." },
      { typed: "1 000", error: "Remove the spaces: write 1000, not 1 000. Thousands separators are not accepted." },
    ];
    for (const unit of ["sats", "ether"] as const) {
      await setUnit(page, unit);
      for (const { typed, error } of cases) {
        // Typed key by key: the error shows while typing, before any submit.
        await input.fill("");
        await input.pressSequentially(typed);
        expect({ unit, typed, error: await text(page, "custom-amount-error") }).toEqual({ unit, typed, error });
        expect(await input.getAttribute("aria-invalid")).toBe("true");
        expect(await button.isDisabled()).toBe(true);
        // Enter submits a form even with its button disabled: it must open nothing.
        await input.press("Enter");
        expect(await page.getByTestId("review-dialog").count()).toBe(0);
      }
      await page.screenshot({ path: screenshotPath(`money-1-refused-${unit}`) });
      // The same field accepts the amount written the one way.
      await input.fill("1.5");
      expect(await page.getByTestId("custom-amount-error").count()).toBe(0);
      expect(await button.isDisabled()).toBe(false);
    }
    expect(await actionRowCount(page)).toBe(0);
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore);
    await page.close();
  });

  test("review: the amount in all three units, the fee, the balance before and after; Cancel sends nothing", async () => {
    const account = accounts[5]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const balance = await chain.publicClient.getBalance({ address: account });
    const page = await openChama({ account: 5, chamaId: OPEN_CHAMA });
    await setUnit(page, "sats");
    await page.getByTestId("custom-amount").fill("2500.5");
    await page.getByTestId("contribute-button").click();
    await reviewReady(page);

    const amount = 25_005_000_000_000n;
    expect(await text(page, "review-chama")).toBe("#1 Money Savers");
    expect(await text(page, "review-summary")).toBe("Send 2,500.5 sats from your account to chama #1 Money Savers.");
    expect(await text(page, "review-amount")).toBe("2,500.5 sats");
    expect(await text(page, "review-amount-ether")).toBe("0.000025005 ETH");
    expect(await text(page, "review-amount-wei")).toBe("25,005,000,000,000 wei");
    expect(await text(page, "review-balance-before")).toBe(formatAmount(balance, "sats"));
    const feeText = await text(page, "review-fee");
    expect(feeText).toMatch(/^about [\d,.]+ sats$/);
    const fee = parseAmount(feeText.replace(/^about /, "").replace(/ sats$/, "").replaceAll(",", ""), "sats");
    const gasPrice = await chain.publicClient.getGasPrice();
    expect(fee).toBeGreaterThanOrEqual(21_000n * gasPrice);
    expect(fee).toBeLessThan(300_000n * gasPrice);
    expect(await text(page, "review-balance-after")).toBe(`about ${formatAmount(balance - amount - fee, "sats")}`);
    expect(await page.getByTestId("review-problems").count()).toBe(0);

    // The other units follow the switch, and the screenshots show the dialog at both widths.
    await setUnit(page, "ether");
    expect(await text(page, "review-amount")).toBe("0.000025005 ETH");
    expect(await text(page, "review-amount-sats")).toBe("2,500.5 sats");
    await setUnit(page, "sats");
    await page.screenshot({ path: screenshotPath("money-2-review-1280") });
    await page.setViewportSize({ width: 390, height: 844 });
    const fit = await page.evaluate(() => {
      const dialog = document.querySelector("[data-testid=review-dialog]")!.getBoundingClientRect();
      const confirm = document.querySelector("[data-testid=review-confirm]")!.getBoundingClientRect();
      return { left: dialog.left, right: dialog.right, confirmRight: confirm.right, confirmBottom: confirm.bottom, width: window.innerWidth };
    });
    expect(fit.left).toBeGreaterThanOrEqual(0);
    expect(fit.right).toBeLessThanOrEqual(fit.width);
    expect(fit.confirmRight).toBeLessThanOrEqual(fit.width);
    await page.screenshot({ path: screenshotPath("money-2-review-390") });
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByTestId("review-cancel").click();
    await page.getByTestId("review-dialog").waitFor({ state: "detached" });
    expect(await page.getByTestId("custom-amount").inputValue()).toBe("2500.5");
    expect(await actionRowCount(page)).toBe(0);
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore);
    expect(await chain.publicClient.getBalance({ address: account })).toBe(balance);
    await page.close();
  });

  test("Stack is disabled, with its reason shown, on a chama whose minimum is above 1000 sats", async () => {
    const page = await openChama({ account: 5, chamaId: HIGH_MINIMUM_CHAMA });
    await setUnit(page, "sats");
    expect(await page.getByTestId("stack-button").isDisabled()).toBe(true);
    expect(await page.getByTestId("stack-reason").isVisible()).toBe(true);
    expect(await text(page, "stack-reason")).toBe("This chama's minimum is 10,000 sats; 1,000 sats would be refused.");
    await setUnit(page, "ether");
    expect(await text(page, "stack-reason")).toBe("This chama's minimum is 0.0001 ETH; 0.00001 ETH would be refused.");
    // A custom amount under the minimum is refused as it is typed, in the chosen unit.
    await setUnit(page, "sats");
    await page.getByTestId("custom-amount").fill("9999");
    expect(await text(page, "custom-amount-error")).toBe("This chama's minimum is 10,000 sats; 9,999 sats would be refused.");
    expect(await page.getByTestId("contribute-button").isDisabled()).toBe(true);
    await page.getByTestId("custom-amount").fill("10000");
    expect(await page.getByTestId("custom-amount-error").count()).toBe(0);
    expect(await page.getByTestId("contribute-button").isDisabled()).toBe(false);
    await page.screenshot({ path: screenshotPath("money-3-stack-below-minimum") });
    await page.close();
  });

  test("a double-click on Confirm sends exactly one transaction", async () => {
    const account = accounts[8]!.address;
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const page = await openChama({ account: 8, chamaId: OPEN_CHAMA });
    await page.getByTestId("stack-button").click();
    await reviewReady(page);
    await page.getByTestId("review-confirm").dblclick();
    expect(await page.getByTestId("review-confirm").isDisabled()).toBe(true);
    const hash = await sentHash(page);
    await page.getByTestId("review-close").click();
    await page.locator(`[data-testid=contribution-row][data-hash="${hash}"]`).waitFor({ timeout: 30_000 });
    await indexer.waitForBlock();
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 1);
    expect(await indexedContributionHashes(indexer, account)).toEqual([hash]);
    // One action in the store for the one intent.
    expect(await storedActions(page, account)).toHaveLength(1);
    await page.close();
  });

  test("an all-uppercase recipient address pays out; a mixed-case one with a wrong checksum is refused", async () => {
    const recipient = accounts[9]!.address;
    const before = await chain.publicClient.getBalance({ address: recipient });
    const [, , , contributed, paidOut] = await chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "getChama", args: [BigInt(OPEN_CHAMA)] });
    const pot = contributed - paidOut;
    const over = pot + SAT;
    const page = await openChama({ account: 0, chamaId: OPEN_CHAMA });
    await setUnit(page, "sats");
    const to = page.getByTestId("payout-recipient");
    const amount = page.getByTestId("payout-amount");
    const button = page.getByTestId("payout-button");
    await amount.fill("1000");

    // One letter's case flipped: the checksum no longer matches.
    const i = [...recipient].findIndex((c, k) => k > 1 && /[a-fA-F]/.test(c));
    const flipped = recipient.slice(0, i) + (recipient[i] === recipient[i]!.toUpperCase() ? recipient[i]!.toLowerCase() : recipient[i]!.toUpperCase()) + recipient.slice(i + 1);
    await to.fill(flipped);
    expect(await text(page, "payout-recipient-error")).toContain("its checksum is wrong");
    expect(await button.isDisabled()).toBe(true);

    // More than the pot holds is refused before any review.
    const upper = `0x${recipient.slice(2).toUpperCase()}`;
    await to.fill(upper);
    expect(await page.getByTestId("payout-recipient-error").count()).toBe(0);
    await amount.fill((over / SAT).toString());
    expect(await text(page, "payout-amount-error")).toBe(
      `The chama holds ${formatAmount(pot, "sats")}; a payout of ${formatAmount(over, "sats")} is more than that.`,
    );
    expect(await button.isDisabled()).toBe(true);

    await amount.fill("1000");
    await button.click();
    await reviewReady(page);
    expect(await text(page, "review-summary")).toBe(`Pay 1,000 sats from the pot of chama #1 Money Savers to ${recipient}.`);
    expect(await text(page, "review-pot")).toBe(`${formatAmount(pot, "sats")} → ${formatAmount(pot - 1_000n * SAT, "sats")}`);
    await page.screenshot({ path: screenshotPath("money-4-review-payout-1280") });
    await page.getByTestId("review-confirm").click();
    const hash = await sentHash(page, { testId: "payout-action-row" });
    await page.getByTestId("review-close").click();
    await page.locator(`[data-testid=payout-row][data-hash="${hash}"]`).waitFor({ timeout: 30_000 });
    const receipt = await chain.publicClient.getTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    expect(await chain.publicClient.getBalance({ address: recipient })).toBe(before + 1_000n * SAT);
    await page.close();
  });
});
