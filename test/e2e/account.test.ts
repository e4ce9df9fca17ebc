/**
 * The account page in Chromium against the real stack: the admin sees the chamas it administers
 * (names, balance, members) and what it did, in words; a contributor its membership with the
 * chama's name and "Contributed 1,000 sats to #1 …"; a payout's recipient "Received … from #1 …";
 * an address with nothing says so, naming it. At 390 px nothing scrolls sideways and a long name
 * is cut with an ellipsis. Screenshots go to test-results/.
 */
import type { Address, Hash } from "viem";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_NAME_BYTES, SAT, nameBytes } from "../../common/chain";
import { accounts, chamaAs } from "../_support/chain";
import { short } from "../../web/src/format";
import { screenshotPath } from "./browser";
import { type WebStack, startWebStack } from "./stack";

const ADMIN = accounts[0]!.address;
const CONTRIBUTOR = accounts[1]!.address;
const RECIPIENT = accounts[2]!.address;
const NOBODY = accounts[8]!.address;
/** The contract's longest name, without a space to wrap at. */
const LONG_NAME = "Harvest_Fund_of_the_Kiambu_Highlands_Tea_and_Coffee_Growers_Coop";

let stack: WebStack;
const hashes: { contribution?: Hash; payout?: Hash; blocks: Record<string, bigint> } = { blocks: {} };

/** Opens an address's account page at a width and waits until the index has answered. */
async function openAccount(params: { address: Address; width: number }): Promise<Page> {
  const page = await stack.context.newPage();
  await page.setViewportSize({ width: params.width, height: 900 });
  await page.goto(`${stack.web.url}/#/account/${params.address.toLowerCase()}`);
  await page.getByTestId("account-page").waitFor({ timeout: 30_000 });
  return page;
}

/** The activity rows' sentences, newest first. */
function activityTexts(page: Page): Promise<string[]> {
  return page.getByTestId("activity-text").allTextContents();
}

/** Whether the page scrolls sideways. */
function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}

beforeAll(async () => {
  expect(nameBytes(LONG_NAME)).toBe(MAX_NAME_BYTES);
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      const admin = chamaAs({ chain, address, account: accounts[0]! });
      await admin.createChama("Mama Mboga Savers", 100n * SAT);
      await admin.createChama(LONG_NAME, 0n);
      const contributed = await chamaAs({ chain, address, account: accounts[1]! }).contribute(1n, 1_000n * SAT);
      const paid = await admin.payout(1n, RECIPIENT, 500n * SAT);
      hashes.contribution = contributed.transactionHash;
      hashes.payout = paid.transactionHash;
      hashes.blocks.contribution = contributed.blockNumber;
      hashes.blocks.payout = paid.blockNumber;
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe("account page in Chromium", () => {
  test("the admin: both chamas it administers, with names, balance and members, and what it did in words", async () => {
    for (const width of [390, 1280]) {
      const page = await openAccount({ address: ADMIN, width });
      const chamas = page.getByTestId("administered-chama");
      await expect.poll(() => chamas.count(), { timeout: 30_000 }).toBe(2);
      const [first, second] = await chamas.allTextContents();
      expect(first).toContain("#1 Mama Mboga Savers");
      expect(first).toContain("balance 500 sats");
      expect(first).toContain("1 member");
      expect(first).toContain("minimum 100 sats");
      expect(second).toContain(`#2 ${LONG_NAME}`);
      expect(second).toContain("balance 0 sats");
      expect(second).toContain("0 members");
      expect(await page.getByTestId("account-empty").count()).toBe(0);
      expect(await page.locator("body").textContent()).not.toContain("No indexed activity");

      await expect.poll(() => activityTexts(page)).toEqual([
        `Paid out 500 sats from #1 Mama Mboga Savers to ${short(RECIPIENT.toLowerCase())}`,
        `Created #2 ${LONG_NAME} (minimum 0 sats)`,
        "Created #1 Mama Mboga Savers (minimum 100 sats)",
      ]);
      const paid = page.getByTestId("activity-row").first();
      expect(await paid.getAttribute("data-hash")).toBe(hashes.payout);
      expect(await paid.textContent()).toContain(`block ${hashes.blocks.payout}`);
      expect(await paid.textContent()).toContain(short(hashes.payout!));

      // The long name is cut with an ellipsis and whole in the title; nothing scrolls sideways.
      const long = page.locator("[data-testid=administered-chama][data-chama-id='2'] [data-testid=chama-ref]");
      const fit = await long.evaluate((a) => ({ cut: a.scrollWidth > a.clientWidth, ellipsis: getComputedStyle(a).textOverflow, title: a.getAttribute("title") }));
      expect(fit).toEqual({ cut: true, ellipsis: "ellipsis", title: `#2 ${LONG_NAME}` });
      expect(await scrollsSideways(page)).toBe(false);
      await page.screenshot({ path: screenshotPath(`e2e-account-admin-${width}`), fullPage: true });
      await page.close();
    }
  });

  test("a contributor: the membership with the chama's name and its contribution in words, in the chosen unit", async () => {
    const page = await openAccount({ address: CONTRIBUTOR, width: 390 });
    const membership = page.getByTestId("membership");
    await expect.poll(() => membership.count(), { timeout: 30_000 }).toBe(1);
    const text = await membership.textContent();
    expect(text).toContain("#1 Mama Mboga Savers");
    expect(text).toContain("contributed 1,000 sats (1×)");
    expect(text).toContain("received 0 sats");
    expect(await page.getByTestId("administered").count()).toBe(0);
    expect(await activityTexts(page)).toEqual(["Contributed 1,000 sats to #1 Mama Mboga Savers"]);
    const row = page.getByTestId("activity-row");
    expect(await row.getAttribute("data-hash")).toBe(hashes.contribution);
    expect(await row.textContent()).toContain(`block ${hashes.blocks.contribution}`);
    expect(await scrollsSideways(page)).toBe(false);
    await page.screenshot({ path: screenshotPath("e2e-account-contributor-390"), fullPage: true });

    // The unit switch changes every amount on the page.
    await page.getByTestId("unit-select").selectOption("ether");
    await expect.poll(() => activityTexts(page)).toEqual(["Contributed 0.00001 ETH to #1 Mama Mboga Savers"]);
    expect(await membership.textContent()).toContain("contributed 0.00001 ETH (1×)");
    await page.getByTestId("unit-select").selectOption("sats");
    await page.close();
  });

  test("a payout's recipient: Received … from #1 …", async () => {
    const page = await openAccount({ address: RECIPIENT, width: 1280 });
    await expect.poll(() => activityTexts(page), { timeout: 30_000 }).toEqual(["Received 500 sats from #1 Mama Mboga Savers"]);
    const membership = await page.getByTestId("membership").textContent();
    expect(membership).toContain("#1 Mama Mboga Savers");
    expect(membership).toContain("received 500 sats");
    expect(await page.getByTestId("account-empty").count()).toBe(0);
    await page.screenshot({ path: screenshotPath("e2e-account-recipient-1280"), fullPage: true });
    await page.close();
  });

  test("an address with nothing: the empty state names it, and nothing else is listed", async () => {
    for (const width of [390, 1280]) {
      const page = await openAccount({ address: NOBODY, width });
      const empty = page.getByTestId("account-empty");
      await empty.waitFor({ timeout: 30_000 });
      expect(await empty.textContent()).toContain(NOBODY.toLowerCase());
      for (const list of ["administered", "memberships", "activity", "account-stats"]) expect(await page.getByTestId(list).count(), list).toBe(0);
      expect(await scrollsSideways(page)).toBe(false);
      await page.screenshot({ path: screenshotPath(`e2e-account-empty-${width}`), fullPage: true });
      await page.close();
    }
  });
});
