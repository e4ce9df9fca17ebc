/**
 * The sync engine against a real anvil and the real indexer (`ponder start` on PostgreSQL),
 * through the same viem and Ponder adapters the web app uses: confirm, revert, replacement
 * (a cancellation and a speed-up), and reorgs (demoted then re-confirmed; dropped then retried).
 */
import { type Address, type Hash, type Hex, parseGwei } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { clientsFor } from "../scripts/lib/chama";
import { SyncEngine } from "../web/src/sync/engine";
import { ponderIndexer } from "../web/src/sync/ponderIndexer";
import { ActionStore, memoryStorage } from "../web/src/sync/store";
import type { Action, ActionParams, ActionStatus } from "../web/src/sync/types";
import { callFor, viemChain } from "../web/src/sync/viemChain";
import { accounts, type Chain, CHAIN_ID, chamaAs, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";
import { SAT } from "../common/chain";
import { waitFor } from "../scripts/lib/processes";

let chain: Chain;
let indexer: Indexer;
let address: Address;
const engines: SyncEngine[] = [];

/** An engine for one dev account over the real chain and indexer. */
function engineFor(params: { account: number; simulate?: boolean }) {
  const account = accounts[params.account]!;
  const { publicClient, walletClient } = clientsFor({ chainId: CHAIN_ID, rpcUrl: chain.rpcUrl, account });
  const engine = new SyncEngine({
    store: new ActionStore({ storage: memoryStorage(), now: Date.now }),
    chain: viemChain({ publicClient, walletClient, address, simulate: params.simulate, pollingInterval: 50 }),
    indexer: ponderIndexer({ url: indexer.url, chainId: CHAIN_ID }),
    finalityBlocks: 30n,
  });
  engines.push(engine);
  return { engine, account: account.address };
}

/** Waits until the action reaches `status` and returns it. */
function waitForStatus(engine: SyncEngine, id: string, status: ActionStatus, timeoutMs = 20_000): Promise<Action> {
  return waitFor({
    what: `action ${id} to become ${status}`,
    timeoutMs,
    intervalMs: 20,
    check: () => {
      const action = engine.store.get(id);
      if (action?.status === status) return action;
      throw new Error(`it is ${action?.status} (${action?.error?.message ?? "no error"}; engine: ${engine.health().lastError ?? "no error"})`);
    },
  });
}

const stack = (chamaId: bigint, sats: bigint): ActionParams => ({ kind: "contribution", chamaId, amount: sats * SAT });

beforeAll(async () => {
  chain = await startChain();
  const deployment = await deploy(chain);
  address = deployment.address;
  await chamaAs({ chain, address, account: accounts[0]! }).createChama("Integration Savers", 100n * SAT);
  indexer = await startIndexer({ chain, address, startBlock: deployment.startBlock, database: "postgres" });
  await indexer.waitForBlock();
});

afterAll(async () => {
  for (const engine of engines) engine.stop();
  await indexer?.stop();
  await chain?.stop();
});

describe("sync engine on a real chain and indexer", () => {
  test("confirm: a stack goes pending, confirmed, then reconciled with the indexed row", async () => {
    const { engine, account } = engineFor({ account: 1 });
    await engine.start();
    const draft = engine.submit({ account, params: stack(1n, 1_000n) });
    expect(draft.status).toBe("draft");
    const reconciled = await waitForStatus(engine, draft.id, "reconciled");
    expect(reconciled.hash).toBeDefined();
    expect(reconciled.indexed).toEqual({ chamaId: 1n, amount: 1_000n * SAT, account: account.toLowerCase(), name: undefined });
    expect(reconciled.discrepancies).toBeUndefined();
    expect(engine.health()).toMatchObject({ pending: 0, failed: 0, discrepancies: 0, live: true });
    const receipt = await chain.publicClient.getTransactionReceipt({ hash: reconciled.hash! });
    expect(receipt.status).toBe("success");
    expect(reconciled.blockNumber).toBe(receipt.blockNumber);
    expect(engine.sends).toBe(1);
  });

  test("revert: on chain it fails with the decoded reason; simulated, it fails before spending a nonce", async () => {
    const { engine, account } = engineFor({ account: 2, simulate: false });
    await engine.start();
    const payout: ActionParams = { kind: "payout", chamaId: 1n, recipient: account, amount: 1n };
    const onChain = engine.submit({ account, params: payout });
    const failed = await waitForStatus(engine, onChain.id, "failed");
    expect(failed.error?.reason).toBe("reverted");
    expect(failed.error?.message).toBe(`reverted: NotAdmin(${account}, ${accounts[0]!.address})`);
    expect((await chain.publicClient.getTransactionReceipt({ hash: failed.hash! })).status).toBe("reverted");

    const simulated = engineFor({ account: 2 });
    await simulated.engine.start();
    const nonceBefore = await chain.publicClient.getTransactionCount({ address: account });
    const refused = simulated.engine.submit({ account, params: payout });
    const rejected = await waitForStatus(simulated.engine, refused.id, "failed");
    expect(rejected.error).toEqual({ reason: "rejected", message: `would revert: NotAdmin(${account}, ${accounts[0]!.address})` });
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(nonceBefore);
  });

  test("replacement: a cancellation marks the action replaced; a speed-up is followed to reconciliation", async () => {
    const { engine, account } = engineFor({ account: 3 });
    const { walletClient } = clientsFor({ chainId: CHAIN_ID, rpcUrl: chain.rpcUrl, account: accounts[3]! });
    await engine.start();
    await chain.testClient.setAutomine(false);
    try {
      // Cancellation: a 0-value self-transfer with the same nonce and higher fees.
      const first = engine.submit({ account, params: stack(1n, 200n) });
      const pending = await waitForStatus(engine, first.id, "pending");
      // Let viem's watcher see the original in the mempool before it is replaced.
      await waitFor({ what: "the original in the mempool", check: async () => ((await chain.publicClient.getTransaction({ hash: pending.hash! })) ? true : undefined) });
      const cancel = await walletClient.sendTransaction({
        to: account,
        value: 0n,
        nonce: pending.nonce!,
        maxFeePerGas: parseGwei("50"),
        maxPriorityFeePerGas: parseGwei("10"),
      });
      await chain.testClient.mine({ blocks: 1 });
      const replaced = await waitForStatus(engine, first.id, "replaced");
      expect(replaced.replacedBy).toBe(cancel);
      // Whichever notices first, viem's onReplaced or the engine's nonce check, names it a
      // cancellation, the one replacement a retry can still carry out.
      expect(replaced.error?.reason).toBe("cancelled");
      expect(replaced.error?.message).toMatch(new RegExp(`^cancelled: nonce ${pending.nonce} was used by ${cancel}`));

      // Speed-up: the same call, same nonce, higher fees.
      const second = engine.submit({ account, params: stack(1n, 300n) });
      const slow = await waitForStatus(engine, second.id, "pending");
      await waitFor({ what: "the original in the mempool", check: async () => ((await chain.publicClient.getTransaction({ hash: slow.hash! })) ? true : undefined) });
      const fast = await walletClient.sendTransaction({
        to: address,
        ...callFor(second.params),
        nonce: slow.nonce!,
        gas: 200_000n,
        maxFeePerGas: parseGwei("60"),
        maxPriorityFeePerGas: parseGwei("20"),
      });
      await chain.testClient.mine({ blocks: 1 });
      expect((await chain.publicClient.waitForTransactionReceipt({ hash: fast })).status).toBe("success");
      const reconciled = await waitForStatus(engine, second.id, "reconciled");
      expect(reconciled.hash).toBe(fast);
      expect(reconciled.hashes).toEqual([slow.hash, fast]);
      expect(engine.sends).toBe(2);
    } finally {
      await chain.testClient.setAutomine(true);
    }
  });

  test("reorg: a reconciled stack is demoted to pending, then re-confirmed when its transaction lands again", async () => {
    const { engine, account } = engineFor({ account: 4 });
    await engine.start();
    const snapshot = await chain.testClient.snapshot();
    const draft = engine.submit({ account, params: stack(1n, 400n) });
    const reconciled = await waitForStatus(engine, draft.id, "reconciled");
    const raw = (await chain.testClient.request({ method: "eth_getRawTransactionByHash" as never, params: [reconciled.hash!] as never })) as Hex;

    // Roll back past the block and build a longer chain without it; keep the transaction in
    // the node's mempool (mining paused) so it can land again.
    await chain.testClient.revert({ id: snapshot });
    await chain.testClient.setAutomine(false);
    try {
      await chain.testClient.mine({ blocks: 2 });
      await chain.publicClient.request({ method: "eth_sendRawTransaction", params: [raw] });
      const demoted = await waitForStatus(engine, draft.id, "pending");
      expect(demoted.reorged).toBe(true);
      expect(engine.health().pending).toBe(1);
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    const again = await waitForStatus(engine, draft.id, "reconciled");
    expect(again.hash).toBe(reconciled.hash);
    expect(again.blockNumber).toBeGreaterThan(reconciled.blockNumber!);
    expect(engine.sends).toBe(1);
  });

  test("reorg: a transaction the node forgot is dropped; retry reuses its nonce and lands once", async () => {
    const { engine, account } = engineFor({ account: 5 });
    await engine.start();
    const snapshot = await chain.testClient.snapshot();
    const draft = engine.submit({ account, params: stack(1n, 500n) });
    const reconciled = await waitForStatus(engine, draft.id, "reconciled");
    await chain.testClient.revert({ id: snapshot });
    await chain.testClient.mine({ blocks: 2 });
    const dropped = await waitForStatus(engine, draft.id, "dropped");
    expect(dropped.error?.reason).toBe("dropped");

    await engine.retry(draft.id);
    const again = await waitForStatus(engine, draft.id, "reconciled");
    expect(again.nonce).toBe(reconciled.nonce);
    expect(again.hashes[0]).toBe(reconciled.hash);
    expect(await chain.publicClient.getTransactionCount({ address: account })).toBe(reconciled.nonce! + 1);
    // Exactly one stack from this account is indexed.
    const rows = await indexer.graphql<{ contributions: { items: { transactionHash: Hash }[] } }>(
      `{ contributions(where: { contributor: "${account.toLowerCase()}" }) { items { transactionHash } } }`,
    );
    expect(rows.data?.contributions.items.map((r) => r.transactionHash)).toEqual([again.hash]);
  });
});
