/**
 * The injected-wallet path (EIP-1193) in a real browser: a test wallet put into the page before
 * it loads answers accounts and chain id as the test says, switches chain (or refuses), forwards
 * everything else, `eth_sendTransaction` included, to the test's anvil (whose dev accounts are
 * unlocked), emits `accountsChanged`/`chainChanged`, and can reject the next request of a method
 * with EIP-1193's 4001. Connect shows the wallet's account and stacks from it; a wallet on
 * another chain gets a prompt naming the app's chain and sends nothing until it switches; a
 * rejected signature says "you rejected it", leaves nothing pending and no Retry, and spends no
 * nonce; an account change is followed (its address, its rows and counts only). A hash the
 * wallet broadcast is registered with the API's ledger (origin "wallet").
 */
import type { Address, Hex } from "viem";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { WebServer } from "../../scripts/lib/web";
import { accounts, type Chain, CHAIN_ID, chamaAs } from "../_support/chain";
import { waitFor } from "../../scripts/lib/processes";
import { screenshotPath } from "./browser";
import { sentHash, stackAndConfirm } from "./pages";
import { type WebStack, startWebStack } from "./stack";

let chain: Chain;
let web: WebServer;
let stack: WebStack;
let context: BrowserContext;

/** What the page's test wallet starts with. */
type TestWalletParameters = {
  rpcUrl: string;
  account: Address;
  chainId: number;
  /** This site was allowed before: `eth_accounts` answers at once, without a Connect. */
  connected: boolean;
};

/** The test wallet's handle in the page (`window.__wallet`). */
type TestWalletHandle = {
  state: {
    account: string;
    chainId: number;
    connected: boolean;
    /** The next request of this method is rejected with 4001. */
    rejectNext: string | undefined;
    /** wallet_switchEthereumChain is rejected with 4001 while set. */
    refuseSwitch: boolean;
    /** Every method asked, in order. */
    requests: string[];
  };
  emit: (event: string, value: unknown) => void;
};

/** The EIP-1193 provider the page gets as `window.ethereum`; runs in the page before its scripts. */
function installTestWallet(params: TestWalletParameters): void {
  const listeners = new Map<string, Set<(value: unknown) => void>>();
  const rejected = (message: string) => Object.assign(new Error(message), { code: 4001 });
  const hex = (n: number) => `0x${n.toString(16)}`;
  const state: TestWalletHandle["state"] = {
    account: params.account,
    chainId: params.chainId,
    connected: params.connected,
    rejectNext: undefined,
    refuseSwitch: false,
    requests: [],
  };
  const emit = (event: string, value: unknown) => {
    for (const listener of listeners.get(event) ?? []) listener(value);
  };
  let nextId = 0;
  const forward = async (method: string, args: unknown) => {
    const response = await fetch(params.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++nextId, method, params: args ?? [] }),
    });
    const body = (await response.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
    return body.result;
  };
  const provider = {
    on(event: string, listener: (value: unknown) => void) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(listener);
      return provider;
    },
    removeListener(event: string, listener: (value: unknown) => void) {
      listeners.get(event)?.delete(listener);
      return provider;
    },
    async request({ method, params: args }: { method: string; params?: unknown }): Promise<unknown> {
      state.requests.push(method);
      if (state.rejectNext === method) {
        state.rejectNext = undefined;
        throw rejected("User rejected the request.");
      }
      switch (method) {
        case "eth_requestAccounts":
          state.connected = true;
          return [state.account];
        case "eth_accounts":
          return state.connected ? [state.account] : [];
        case "eth_chainId":
          return hex(state.chainId);
        case "net_version":
          return String(state.chainId);
        case "wallet_switchEthereumChain": {
          if (state.refuseSwitch) throw rejected("User rejected the request.");
          state.chainId = Number((args as [{ chainId: string }])[0].chainId);
          emit("chainChanged", hex(state.chainId));
          return null;
        }
        case "eth_sendTransaction": {
          const tx = (args as [{ from?: string }])[0];
          // A real wallet would sign on the chain it is on; this one only knows anvil.
          if (state.chainId !== 31337) throw new Error(`test wallet: no chain ${state.chainId}`);
          if (tx.from?.toLowerCase() !== state.account.toLowerCase()) {
            throw Object.assign(new Error(`test wallet: ${tx.from} is not the selected account`), { code: 4100 });
          }
          return forward(method, args);
        }
        default:
          return forward(method, args);
      }
    },
  };
  (window as unknown as { __wallet: TestWalletHandle }).__wallet = { state, emit };
  (window as unknown as { ethereum: typeof provider }).ethereum = provider;
}

/** Opens chama 1 with a test wallet injected (account `account`, on `chainId`). */
async function openWithWallet(params: { account: number; chainId?: number; connected?: boolean; width?: number }): Promise<Page> {
  const page = await context.newPage();
  if (params.width) await page.setViewportSize({ width: params.width, height: 900 });
  await page.addInitScript(installTestWallet, {
    rpcUrl: chain.rpcUrl,
    account: accounts[params.account]!.address,
    chainId: params.chainId ?? CHAIN_ID,
    connected: params.connected ?? false,
  });
  await page.goto(`${web.url}/#/chama/1`);
  await page.getByTestId("chama-title").waitFor({ timeout: 30_000 });
  return page;
}

function walletState(page: Page): Promise<TestWalletHandle["state"]> {
  return page.evaluate(() => (window as unknown as { __wallet: TestWalletHandle }).__wallet.state);
}

/** Sets fields of the page's test wallet. */
async function setWallet(page: Page, patch: Partial<TestWalletHandle["state"]>): Promise<void> {
  await page.evaluate((p) => Object.assign((window as unknown as { __wallet: TestWalletHandle }).__wallet.state, p), patch);
}

/** Changes the wallet's account and emits `accountsChanged`, as a wallet does. */
async function changeAccount(page: Page, account: Address): Promise<void> {
  await page.evaluate((a) => {
    const wallet = (window as unknown as { __wallet: TestWalletHandle }).__wallet;
    wallet.state.account = a;
    wallet.emit("accountsChanged", [a]);
  }, account);
}

/** The header's account link is `address`'s. */
async function expectWalletAddress(page: Page, address: Address): Promise<void> {
  await expect
    .poll(() => page.getByTestId("wallet-address").getAttribute("href"), { timeout: 10_000 })
    .toBe(`#/account/${address.toLowerCase()}`);
}

/** The user's optimistic contribution rows, as (status, hash, text). */
function actionRows(page: Page) {
  return page.$$eval("[data-testid=contribution-action-row]", (rows) =>
    rows.map((row) => ({ status: row.getAttribute("data-status"), hash: row.getAttribute("data-hash"), text: row.textContent ?? "" })),
  );
}

/** The wallet's last requests, for a timeout's message. */
function walletRequests(page: Page) {
  return async () => `last wallet requests ${(await walletState(page)).requests.slice(-20).join(", ")}`;
}

/** The account's transaction count, mined and with the mempool. */
async function nonces(address: Address) {
  const [latest, pending] = await Promise.all([
    chain.publicClient.getTransactionCount({ address, blockTag: "latest" }),
    chain.publicClient.getTransactionCount({ address, blockTag: "pending" }),
  ]);
  return { latest, pending };
}

/** Waits for `hash`'s receipt and checks it succeeded from `from`. */
async function expectLandedFrom(hash: Hex, from: Address): Promise<void> {
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, timeout: 20_000 });
  expect(receipt.status).toBe("success");
  expect(receipt.from.toLowerCase()).toBe(from.toLowerCase());
}

async function screenshotBothWidths(page: Page, name: string): Promise<void> {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: screenshotPath(`${name}-${width}`), fullPage: true });
  }
}

beforeAll(async () => {
  stack = await startWebStack({
    seed: async ({ chain, address }) => {
      await chamaAs({ chain, address, account: accounts[0]! }).createChama("Wallet Savers", 0n);
    },
  });
  ({ chain, web, context } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe("injected wallet (EIP-1193) in Chromium", () => {
  test("connect: the wallet's account is shown, not the dev wallet, and a stack lands from it", async () => {
    const account = accounts[3]!.address;
    const page = await openWithWallet({ account: 3 });
    const header = page.getByTestId("wallet");
    await page.getByTestId("connect-wallet").waitFor();
    expect(await header.textContent()).not.toMatch(/dev wallet/i);
    expect(await page.getByTestId("dev-account").count()).toBe(0);
    expect(await page.getByTestId("stack-button").isDisabled()).toBe(true);

    await page.getByTestId("connect-wallet").click();
    await expectWalletAddress(page, account);
    expect(await page.getByTestId("wallet-label").textContent()).toBe("Browser wallet");
    expect(await header.textContent()).not.toMatch(/dev wallet/i);

    const before = await nonces(account);
    await stackAndConfirm(page);
    const hash = await sentHash(page, { diagnose: walletRequests(page) });
    await expectLandedFrom(hash, account);
    expect((await chain.publicClient.getTransaction({ hash })).nonce).toBe(before.latest);
    expect((await walletState(page)).requests.filter((m) => m === "eth_sendTransaction")).toHaveLength(1);
    const row = page.locator(`[data-testid=contribution-row][data-hash="${hash}"]`);
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain("yours · indexed");
    // The wallet broadcast it itself; the app registered the hash with the API's ledger.
    const record = await waitFor({
      what: `the ledger's record of ${hash}`,
      timeoutMs: 20_000,
      check: async () => {
        const response = await fetch(`${stack.indexer.url}/transactions/${hash}`);
        return response.status === 200 ? ((await response.json()) as { origin: string; relayed: boolean; from: string }) : undefined;
      },
    });
    expect(record).toMatchObject({ origin: "wallet", relayed: false });
    expect(record.from.toLowerCase()).toBe(account.toLowerCase());
    expect(await page.getByTestId("health-relay").textContent()).toBe("wallet; registered with the ledger");
    await page.close();
  });

  test("wrong chain: a prompt names the app's chain, nothing is sent; after the switch it proceeds", async () => {
    const account = accounts[4]!.address;
    const before = await nonces(account);
    const page = await openWithWallet({ account: 4, chainId: 1, connected: true });
    const prompt = page.getByTestId("switch-chain");
    await prompt.waitFor({ timeout: 10_000 });
    expect(await prompt.textContent()).toContain("Your wallet is on chain 1.");
    expect(await page.getByTestId("expected-chain").textContent()).toBe(`Anvil (local) (chain ${CHAIN_ID})`);
    expect(await page.getByTestId("wallet-address").count()).toBe(0);
    expect(await page.getByTestId("stack-button").isDisabled()).toBe(true);
    await screenshotBothWidths(page, "e2e-wallet-switch-prompt");
    await page.setViewportSize({ width: 1280, height: 900 });

    // Refused in the wallet: still the prompt, with the reason.
    await setWallet(page, { refuseSwitch: true });
    await page.getByTestId("switch-chain-button").click();
    await expect.poll(() => prompt.textContent(), { timeout: 10_000 }).toContain("You rejected the switch to Anvil (local)");
    expect(await page.getByTestId("stack-button").isDisabled()).toBe(true);

    await setWallet(page, { refuseSwitch: false });
    await page.getByTestId("switch-chain-button").click();
    await prompt.waitFor({ state: "detached", timeout: 10_000 });
    expect((await walletState(page)).chainId).toBe(CHAIN_ID);
    await expectWalletAddress(page, account);
    // Nothing was sent while on chain 1.
    expect((await walletState(page)).requests).not.toContain("eth_sendTransaction");
    expect(await nonces(account)).toEqual(before);

    await stackAndConfirm(page);
    const hash = await sentHash(page, { diagnose: walletRequests(page) });
    await expectLandedFrom(hash, account);

    // The wallet leaves the chain later: the prompt is back and nothing can be sent.
    await page.evaluate(() => {
      const wallet = (window as unknown as { __wallet: TestWalletHandle }).__wallet;
      wallet.state.chainId = 1;
      wallet.emit("chainChanged", "0x1");
    });
    await prompt.waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("stack-button").isDisabled()).toBe(true);
    await page.close();
  });

  test("rejected signature: says you rejected it, nothing pending, no Retry, the nonce unchanged", async () => {
    const account = accounts[5]!.address;
    const page = await openWithWallet({ account: 5, connected: true });
    await expectWalletAddress(page, account);
    const before = await nonces(account);

    await setWallet(page, { rejectNext: "eth_sendTransaction" });
    await stackAndConfirm(page);
    await expect.poll(async () => (await actionRows(page)).map((r) => r.status), { timeout: 20_000 }).toEqual(["failed"]);
    const [row] = await actionRows(page);
    expect(row!.text).toContain("You rejected it in your wallet, so nothing was sent.");
    expect(row!.hash).toBe("");
    expect(await page.getByTestId("retry").count()).toBe(0);
    expect(await page.getByTestId("dismiss").count()).toBe(1);
    expect(await page.getByTestId("health-pending").textContent()).toBe("0");
    expect(await page.getByTestId("health-drafts").textContent()).toBe("0");
    expect(await page.getByTestId("health-failed").textContent()).toBe("1");
    expect((await walletState(page)).requests.filter((m) => m === "eth_sendTransaction")).toHaveLength(1);
    expect(await nonces(account)).toEqual(before);
    await screenshotBothWidths(page, "e2e-wallet-rejected");
    await page.setViewportSize({ width: 1280, height: 900 });

    // Nothing is stuck: the next stack goes out with the nonce the rejected one had taken.
    await stackAndConfirm(page);
    const hash = await sentHash(page, { diagnose: walletRequests(page) });
    await expectLandedFrom(hash, account);
    expect((await chain.publicClient.getTransaction({ hash })).nonce).toBe(before.latest);
    expect((await walletState(page)).requests.filter((m) => m === "eth_sendTransaction")).toHaveLength(2);

    await page.getByTestId("dismiss").click();
    await expect.poll(async () => (await actionRows(page)).filter((r) => r.status === "failed").length).toBe(0);
    await page.close();
  });

  test("account change: the app follows the new account, with its rows and counts only", async () => {
    const first = accounts[6]!.address;
    const second = accounts[7]!.address;
    const page = await openWithWallet({ account: 6, connected: true });
    await expectWalletAddress(page, first);
    // A failed row of the first account (rejected in the wallet).
    await setWallet(page, { rejectNext: "eth_sendTransaction" });
    await stackAndConfirm(page);
    await expect.poll(async () => (await actionRows(page)).map((r) => r.status), { timeout: 20_000 }).toEqual(["failed"]);
    expect(await page.getByTestId("health-failed").textContent()).toBe("1");

    await changeAccount(page, second);
    await expectWalletAddress(page, second);
    await expect.poll(async () => (await actionRows(page)).length, { timeout: 10_000 }).toBe(0);
    expect(await page.getByTestId("health-failed").textContent()).toBe("0");

    // It sends from the new account.
    const before = await nonces(second);
    await stackAndConfirm(page);
    const hash = await sentHash(page, { diagnose: walletRequests(page) });
    await expectLandedFrom(hash, second);
    expect((await chain.publicClient.getTransaction({ hash })).nonce).toBe(before.latest);

    // Back to the first: its failed row and count are back, the second's action is not shown.
    await changeAccount(page, first);
    await expectWalletAddress(page, first);
    await expect.poll(async () => (await actionRows(page)).map((r) => r.status), { timeout: 10_000 }).toEqual(["failed"]);
    expect(await page.getByTestId("health-failed").textContent()).toBe("1");
    await page.close();
  });
});
