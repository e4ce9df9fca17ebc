/**
 * The transaction ledger in the app, in Chromium against a real anvil, the real indexer (whose
 * API holds the ledger) and the Vite dev server: two members' windows (two browser profiles,
 * two dev accounts) on one chama. One stacks through the relay; the other sees the pending row
 * ("0x7099…79c8 · 1,000 sats · pending 0 s") while anvil holds the transaction unmined, and sees
 * it go once mined and reconciled. The sender's own window shows its action once. A transaction
 * the node refuses shows as failed, with its reason, to the other member. The operator page
 * counts every member's pending and failed actions from /sync-health's `ledger` and lists
 * them. Against an API without a ledger (LEDGER_ENABLED=false) the dev wallet sends the same
 * signed bytes straight to the node, once, and the page says so; nothing there claims to know
 * other members' actions. Screenshots at 390 and 1280 px go to test-results/.
 */
import { type Hex, encodeFunctionData, keccak256 } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChamaAbi } from "../../abis/ChamaAbi";
import { SAT } from "../../common/chain";
import type { LedgerTransaction } from "../../common/ledger-api";
import type { SyncHealth } from "../../common/ops-api";
import { getFreePort } from "../../scripts/lib/ports";
import { waitFor } from "../../scripts/lib/processes";
import { startWeb } from "../../scripts/lib/web";
import { short } from "../../web/src/format";
import { accounts, CHAIN_ID, chamaAs } from "../_support/chain";
import { startIndexer } from "../_support/indexer";
import { launchBrowser } from "./browser";
import { openChamaPage, screenshotsAtWidths, sentHash, stackAndConfirm, useDevAccount } from "./pages";
import { type WebStack, startWebStack } from "./stack";

const SENDER = 1;
const OBSERVER = 2;

let stack: WebStack;
/** The second member's own browser profile (its own localStorage and store). */
let second: Awaited<ReturnType<typeof launchBrowser>>;

type Probe = { __ledgerRowsSeen?: Record<string, number> };

/** Records, from the page's first script on, when each ledger row (by hash) was first drawn. */
function recordLedgerRows(): void {
  const probe = window as unknown as Probe;
  probe.__ledgerRowsSeen = {};
  const look = () => {
    document.querySelectorAll("[data-testid=ledger-row]").forEach((row) => {
      const hash = row.getAttribute("data-hash");
      if (hash && probe.__ledgerRowsSeen![hash] === undefined) probe.__ledgerRowsSeen![hash] = Date.now();
    });
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true });
}

async function rowSeenAt(page: Page, hash: string): Promise<number | undefined> {
  return page.evaluate((h) => (window as unknown as Probe).__ledgerRowsSeen?.[h], hash.toLowerCase());
}

/** Opens chama 1 in a window as dev account `account`, with the ledger-row recorder. */
async function openMember(params: { context: WebStack["context"]; account: number }): Promise<Page> {
  const page = await openChamaPage({ context: params.context, url: stack.web.url, account: params.account });
  await page.addInitScript(recordLedgerRows);
  await page.reload();
  await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
  return page;
}

/** Waits until the page's ledger list is connected to the stream and has read the ledger. */
async function waitLedgerLive(page: Page): Promise<void> {
  await expect.poll(() => page.getByTestId("ledger-rows").getAttribute("data-state"), { timeout: 30_000 }).toBe("live");
}

async function ledgerRecord(hash: string): Promise<LedgerTransaction & { transitions: { to: string }[] }> {
  const response = await fetch(`${stack.indexer.url}/transactions/${hash}`);
  expect(response.status).toBe(200);
  return (await response.json()) as LedgerTransaction & { transitions: { to: string }[] };
}

async function syncHealth(): Promise<SyncHealth> {
  const response = await fetch(`${stack.indexer.url}/sync-health`);
  return (await response.json()) as SyncHealth;
}

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      await chamaAs({ chain, address, account: accounts[0]! }).createChama("Ledger Savers", 0n);
    },
    indexerEnv: { HEALTH_SAMPLE_INTERVAL_MS: "1000" },
  });
  second = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await second?.close();
  await stack?.stop();
});

describe("every member's pending actions, from the ledger, in Chromium", () => {
  test("one member stacks through the relay; the other sees the pending row while it is unmined, then sees it go", async () => {
    const { chain, indexer } = stack;
    const sender = await openMember({ context: stack.context, account: SENDER });
    const observer = await openMember({ context: second.context, account: OBSERVER });
    await waitLedgerLive(sender);
    await waitLedgerLive(observer);
    expect(await observer.getByTestId("ledger-row").count()).toBe(0);

    const relayAnswer = sender.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/transactions", { timeout: 30_000 });
    // Blocks only when the test mines one, so the pending row can be looked at.
    await chain.testClient.setAutomine(false);
    let hash: Hex;
    let latencyMs: number;
    try {
      await stackAndConfirm(sender);
      const answer = await relayAnswer;
      expect(answer.status()).toBe(201);
      const timing = answer.request().timing();
      // When the relay's answer was in (epoch ms, the browser's clock = this machine's).
      const answeredAt = timing.startTime + timing.responseEnd;
      const body = (await answer.json()) as LedgerTransaction;
      hash = body.hash as Hex;
      expect(body.status).toBe("pending");
      expect(body.origin).toBe("relay");
      expect(body.from.toLowerCase()).toBe(accounts[SENDER]!.address.toLowerCase());
      expect(await sentHash(sender)).toBe(hash);

      // The other member's window: the row, within a second of the relay's answer.
      const seenAt = await waitFor({ what: `the observer's ledger row for ${hash}`, timeoutMs: 10_000, intervalMs: 20, check: () => rowSeenAt(observer, hash) });
      latencyMs = seenAt - answeredAt;
      console.log(`ledger row in the other window ${latencyMs} ms after the relay's answer`);
      expect(latencyMs).toBeLessThan(1_000);
      const row = observer.locator(`[data-testid=ledger-row][data-hash="${hash}"]`);
      // The row may first show the draft (recorded, being broadcast): the stream sends every
      // change in order, and the relay had answered pending.
      await waitFor({
        what: `the observer's row for ${hash} to say pending`,
        timeoutMs: 5_000,
        intervalMs: 20,
        check: async () => ((await row.getAttribute("data-status")) === "pending" ? true : undefined),
      });
      expect(await row.getByTestId("ledger-line").textContent()).toMatch(
        new RegExp(`^${short(accounts[SENDER]!.address.toLowerCase()).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} · 1,000 sats · pending \\d+ s$`),
      );
      // Still unmined: the chain has no receipt, the node holds it.
      expect(await chain.publicClient.getTransactionReceipt({ hash }).catch(() => undefined)).toBeUndefined();

      // The sender's window shows its own action once: its row, never the ledger's line too.
      expect(await sender.locator(`[data-testid=contribution-action-row][data-hash="${hash}"]`).count()).toBe(1);
      expect(await rowSeenAt(sender, hash)).toBeUndefined();
      expect(await sender.getByTestId("health-relay").getAttribute("data-mode")).toBe("relay");

      // The operator page (the observer's browser): every member's pending action, listed.
      const operator = await second.context.newPage();
      await useDevAccount(operator, OBSERVER);
      await operator.goto(`${stack.web.url}/#/operator`);
      await expect.poll(() => operator.getByTestId("op-pending-value").textContent(), { timeout: 20_000 }).toBe("1");
      expect(await operator.getByTestId("op-pending").textContent()).toContain("every member's, from the ledger");
      await operator.locator(`[data-testid=op-stuck-row][data-hash="${hash}"]`).waitFor({ timeout: 20_000 });
      expect(await operator.locator(`[data-testid=op-stuck-row][data-hash="${hash}"]`).textContent()).toContain("1,000 sats · pending");
      await screenshotsAtWidths(operator, "ledger-operator-pending");
      await operator.close();

      await screenshotsAtWidths(observer, "ledger-chama-other-member-pending");
      await observer.setViewportSize({ width: 1280, height: 900 });
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }

    // Mined, indexed, reconciled by the ledger: the row goes, and the indexed row is there.
    await observer.locator(`[data-testid=contribution-row][data-hash="${hash}"]`).waitFor({ timeout: 30_000 });
    await observer.locator(`[data-testid=ledger-row][data-hash="${hash}"]`).waitFor({ state: "detached", timeout: 30_000 });
    await expect.poll(async () => (await ledgerRecord(hash)).status, { timeout: 30_000 }).toBe("reconciled");
    expect((await ledgerRecord(hash)).transitions.map((t) => t.to)).toEqual(["draft", "pending", "confirmed", "reconciled"]);
    expect(await rowSeenAt(sender, hash)).toBeUndefined();
    await indexer.waitForBlock();
    await sender.close();
    await observer.close();
  });

  test("a transaction the node refuses shows to the other member as failed, with the node's reason", async () => {
    const observer = await openMember({ context: second.context, account: OBSERVER });
    await waitLedgerLive(observer);

    // An account with no coin signs a contribution; the relay's node refuses it (insufficient funds).
    const broke = privateKeyToAccount(generatePrivateKey());
    const raw = await broke.signTransaction({
      chainId: CHAIN_ID,
      type: "eip1559",
      to: stack.address,
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [1n] }),
      value: 1_000n * SAT,
      nonce: 0,
      gas: 100_000n,
      maxFeePerGas: 10_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });
    const response = await fetch(`${stack.indexer.url}/transactions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ raw }) });
    const refusal = (await response.json()) as { code: string; error: string };
    expect(response.status).toBe(422);
    expect(refusal.code).toBe("NODE_REFUSED");
    const hash = keccak256(raw);

    const row = observer.locator(`[data-testid=ledger-row][data-hash="${hash}"]`);
    // Recorded as a draft before the broadcast, failed once the node said no: both pushed.
    await expect.poll(() => row.getAttribute("data-status").catch(() => null), { timeout: 10_000 }).toBe("failed");
    const line = await row.getByTestId("ledger-line").textContent();
    expect(line).toContain(`${short(broke.address.toLowerCase())} · 1,000 sats · failed: `);
    expect(line?.toLowerCase()).toContain("insufficient funds");

    // The operator page counts it among the failures of the last 24 h and lists it.
    const operator = await second.context.newPage();
    await useDevAccount(operator, OBSERVER);
    await operator.goto(`${stack.web.url}/#/operator`);
    await expect.poll(() => operator.getByTestId("op-failed-value").textContent(), { timeout: 20_000 }).toBe("1");
    await operator.locator(`[data-testid=op-failed-list-row][data-hash="${hash}"]`).waitFor({ timeout: 20_000 });
    expect(await operator.getByTestId("op-pending-value").textContent()).toBe("0");
    const health = await syncHealth();
    expect(health.ledger && "failedLast24h" in health.ledger ? health.ledger.failedLast24h : undefined).toBe(1);
    // The alerts list is the API's own: a list, or "unknown" when it reports none; never blank.
    expect(await operator.getByTestId("op-alerts").textContent()).toMatch(/No alerts\.|unknown|resolved|status|discrepancy|stuck/);
    await screenshotsAtWidths(operator, "ledger-operator-failed");
    await operator.close();
    await screenshotsAtWidths(observer, "ledger-chama-other-member-failed");
    await observer.close();
  });

  test("without a ledger the dev wallet sends straight to the node, once, and the app says so", async () => {
    const { chain, address } = stack;
    const bare = await startIndexer({ chain, address, startBlock: 0, database: "postgres", env: { LEDGER_ENABLED: "false" } });
    try {
      await bare.waitForBlock();
      const web = await startWeb({ port: await getFreePort(), config: { indexerUrl: bare.url, rpcUrl: chain.rpcUrl, chainId: CHAIN_ID, chamaAddress: address } });
      try {
        const account = accounts[3]!.address;
        const page = await openChamaPage({ context: second.context, url: web.url, account: 3 });
        // Other members' actions are not known there, and the page does not pretend otherwise.
        await expect.poll(() => page.getByTestId("ledger-rows").getAttribute("data-state"), { timeout: 30_000 }).toBe("no-ledger");
        expect(await page.getByTestId("ledger-note").textContent()).toContain("Other members' pending actions are not known");
        expect(await page.getByTestId("health-relay").getAttribute("data-mode")).toBe("unknown");

        const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
        await stackAndConfirm(page);
        const hash = await sentHash(page);
        await page.locator(`[data-testid=contribution-row][data-hash="${hash}"]`).waitFor({ timeout: 30_000 });
        expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore + 1);
        await expect.poll(() => page.getByTestId("health-relay").getAttribute("data-mode"), { timeout: 5_000 }).toBe("direct");
        expect(await page.getByTestId("health-relay").textContent()).toMatch(/^straight to the node, not through the ledger: POST .*\/transactions answered 404/);

        // The operator page: the counts are unknown, never 0.
        await page.getByTestId("operator-link").click();
        await page.getByTestId("operator-page").waitFor({ timeout: 30_000 });
        await expect.poll(() => page.getByTestId("op-pending").textContent(), { timeout: 20_000 }).toContain("keeps no transaction ledger");
        expect(await page.getByTestId("op-pending-value").textContent()).toBe("unknown");
        expect(await page.getByTestId("op-failed-value").textContent()).toBe("unknown");
        await page.getByTestId("op-stuck").getByText("unknown: This API keeps no transaction ledger").waitFor({ timeout: 20_000 });
        await screenshotsAtWidths(page, "ledger-operator-no-ledger");
        await page.close();
      } finally {
        await web.close();
      }
    } finally {
      await bare.stop();
    }
  });
});
