/**
 * The sync engine against a scripted chain and indexer with a fake clock: every status
 * transition, replacement, drop, timeout, retry without a second spend, reorg demotion,
 * offline drafts and reloads.
 */
import type { Address } from "viem";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { SAT } from "../../common/chain";
import { SyncEngine } from "../../web/src/sync/engine";
import { memoryLock } from "../../web/src/sync/lock";
import { NonceUsedError, UnreachableError, UserRejectedError } from "../../web/src/sync/ports";
import { USER_REJECTED_MESSAGE } from "../../web/src/sync/viemChain";
import { ActionStore, type KeyValueStorage, memoryStorage } from "../../web/src/sync/store";
import type { Action, ActionParams, IndexedRow } from "../../web/src/sync/types";
import { DismissRefusedError, RetryRefusedError } from "../../web/src/sync/rules";
import { FakeChain, FakeClock, FakeIndexer, hashOf, settle } from "../_support/fakes";

const ALICE: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const STACK: ActionParams = { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT };

let clock: FakeClock;
let chain: FakeChain;
let indexer: FakeIndexer;
let storage: KeyValueStorage & { data: Map<string, string> };
let ids: number;

function makeEngine(options: { timeoutMs?: number; lock?: ReturnType<typeof memoryLock> } = {}) {
  const store = new ActionStore({ storage, now: clock.now });
  return new SyncEngine({
    store,
    chain,
    indexer,
    clock,
    timeoutMs: options.timeoutMs,
    finalityBlocks: 5n,
    lock: options.lock,
    newId: () => `action-${++ids}`,
  });
}

function rowFor(action: Action, overrides: Partial<IndexedRow> = {}): IndexedRow {
  if (action.params.kind !== "contribution") throw new Error("rowFor handles contributions");
  return {
    kind: "contribution",
    transactionHash: action.hash!,
    logIndex: 0,
    blockNumber: action.blockNumber ?? chain.head,
    chamaId: action.params.chamaId,
    account: ALICE.toLowerCase() as Address,
    amount: action.params.amount,
    ...overrides,
  };
}

/** Submits a stack, lets the engine send it, and returns the pending action. */
async function sendStack(engine: SyncEngine): Promise<Action> {
  const draft = engine.submit({ account: ALICE, params: STACK });
  await settle();
  const action = engine.store.get(draft.id)!;
  expect(action.status).toBe("pending");
  return action;
}

beforeEach(() => {
  clock = new FakeClock();
  chain = new FakeChain();
  indexer = new FakeIndexer();
  storage = memoryStorage();
  ids = 0;
});

describe("happy path", () => {
  test("draft at once, then pending, confirmed, reconciled; the stream closes after finality", async () => {
    const engine = makeEngine();
    await engine.start();
    expect(indexer.subscribed).toBe(false);

    const draft = engine.submit({ account: ALICE, params: STACK });
    // Visible synchronously, before any network answer.
    expect(engine.store.get(draft.id)?.status).toBe("draft");
    expect(engine.store.list()).toHaveLength(1);

    await settle();
    const pending = engine.store.get(draft.id)!;
    expect(pending).toMatchObject({ status: "pending", nonce: 0, hash: chain.sent[0]!.hash });
    expect(chain.sent).toHaveLength(1);
    expect(indexer.subscribed).toBe(true);
    expect(engine.health()).toMatchObject({ pending: 1, drafts: 0, live: true });

    const receipt = chain.mine({ hash: pending.hash!, account: ALICE, nonce: 0, logIndex: 3 });
    await settle();
    expect(engine.store.get(draft.id)).toMatchObject({ status: "confirmed", blockNumber: receipt.blockNumber, logIndex: 3 });

    indexer.rows = [rowFor(engine.store.get(draft.id)!, { logIndex: 3 })];
    indexer.push(receipt.blockNumber);
    await settle();
    const reconciled = engine.store.get(draft.id)!;
    expect(reconciled.status).toBe("reconciled");
    expect(reconciled.discrepancies).toBeUndefined();
    expect(engine.health()).toMatchObject({ pending: 0, indexedBlock: receipt.blockNumber, discrepancies: 0 });
    // Still watched for reorgs until final.
    expect(indexer.subscribed).toBe(true);

    indexer.push(receipt.blockNumber + 5n);
    await settle();
    expect(indexer.subscribed).toBe(false);
    expect(engine.health().live).toBe(false);
    expect(chain.sent).toHaveLength(1);
  });

  test("a lost push: the engine reads the index's block itself, backing off, until it has the receipt's block", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    indexer.latest = chain.head;
    const receipt = chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("confirmed");
    expect(indexer.blockReads).toBe(0);

    // The index is behind the receipt for a while: each read finds the old block.
    const reads: number[] = [];
    for (const ms of [500, 1_000, 2_000]) {
      clock.advance(ms - 1);
      await settle();
      reads.push(indexer.blockReads);
      clock.advance(1);
      await settle();
      reads.push(indexer.blockReads);
    }
    expect(reads).toEqual([0, 1, 1, 2, 2, 3]);

    // The block is indexed, and its push never comes: the next read finds it.
    indexer.rows = [rowFor(engine.store.get(action.id)!)];
    indexer.latest = receipt.blockNumber;
    clock.advance(4_000);
    await settle();
    expect(engine.health().indexedBlock).toBe(receipt.blockNumber);
    expect(engine.store.get(action.id)?.status).toBe("reconciled");

    // Nothing is behind any more: no further reads.
    clock.advance(60_000);
    await settle();
    expect(indexer.blockReads).toBe(4);
    engine.stop();
  });

  test("the index can win the race with the receipt: pending goes straight to reconciled", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    indexer.rows = [rowFor(action)];
    indexer.push(chain.head + 1n);
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("reconciled");
    // The late receipt does not move it back.
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("reconciled");
  });

  test("with nothing open: no stream, no timers, no requests however long it sits", async () => {
    const engine = makeEngine();
    await engine.start();
    const callsAfterStart = chain.calls.length;
    clock.advance(60 * 60 * 1000);
    await settle();
    expect(indexer.subscribeCount).toBe(0);
    expect(indexer.fetches).toHaveLength(0);
    expect(clock.timerCount).toBe(0);
    expect(chain.calls.length).toBe(callsAfterStart);
  });

  test("chain wins: an indexed row that differs is shown and counted as a discrepancy", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    indexer.rows = [rowFor(action, { amount: 999n * SAT })];
    indexer.push(chain.head + 1n);
    await settle();
    const reconciled = engine.store.get(action.id)!;
    expect(reconciled.status).toBe("reconciled");
    expect(reconciled.indexed?.amount).toBe(999n * SAT);
    expect(reconciled.discrepancies).toEqual([{ field: "amount", expected: (1000n * SAT).toString(), actual: (999n * SAT).toString() }]);
    expect(engine.health().discrepancies).toBe(1);
  });

  test("reconciles many actions in one fetch, matching by hash and log index", async () => {
    const engine = makeEngine();
    await engine.start();
    const drafts = Array.from({ length: 50 }, () => engine.submit({ account: ALICE, params: STACK }));
    await settle();
    const actions = drafts.map((d) => engine.store.get(d.id)!);
    expect(new Set(actions.map((a) => a.nonce)).size).toBe(50);
    indexer.fetches = [];
    for (const a of actions) chain.mine({ hash: a.hash!, account: ALICE, nonce: a.nonce!, logIndex: 1 });
    await settle();
    expect(engine.store.list().every((a) => a.status === "confirmed")).toBe(true);
    // Rows for the same transaction at other log indexes must not be taken.
    indexer.rows = engine.store.list().flatMap((a) => [rowFor(a, { logIndex: 0 }), rowFor(a, { logIndex: 1, amount: 1n })]);
    indexer.fetches = [];
    indexer.push(chain.head);
    await settle();
    expect(engine.store.list().every((a) => a.status === "reconciled" && a.indexed?.amount === 1n)).toBe(true);
    expect(indexer.fetches.length).toBeGreaterThanOrEqual(1);
    expect(indexer.fetches[0]).toHaveLength(50);
  });
});

describe("one store update per pass", () => {
  test("a pass that reconciles many actions saves once, tells subscribers once, and counts discrepancies", async () => {
    const engine = makeEngine();
    await engine.start();
    const drafts = Array.from({ length: 20 }, () => engine.submit({ account: ALICE, params: STACK }));
    await settle();
    for (const d of drafts) {
      const a = engine.store.get(d.id)!;
      chain.mine({ hash: a.hash!, account: ALICE, nonce: a.nonce!, logIndex: 1 });
    }
    await settle();
    expect(engine.store.list().every((a) => a.status === "confirmed")).toBe(true);
    // Chain wins for the first: its row says 1 wei.
    indexer.rows = drafts.map((d, i) => rowFor(engine.store.get(d.id)!, { logIndex: 1, ...(i === 0 ? { amount: 1n } : {}) }));
    const setItem = vi.spyOn(storage, "setItem");
    let notified = 0;
    engine.store.subscribe(() => notified++);

    indexer.push(chain.head);
    await settle();

    expect(engine.store.list().map((a) => a.status)).toEqual(drafts.map(() => "reconciled"));
    expect(engine.store.get(drafts[0]!.id)?.discrepancies).toEqual([{ field: "amount", expected: STACK.amount.toString(), actual: "1" }]);
    expect(engine.health()).toMatchObject({ pending: 0, discrepancies: 1 });
    // One write: one `storage` event for every other tab, which reads all twenty from it.
    expect(setItem).toHaveBeenCalledTimes(1);
    expect(notified).toBe(1);
    expect(new ActionStore({ storage, now: clock.now }).list()).toEqual(engine.store.list());
  });

  test("a row that arrives and a row that vanishes in the same pass: one save, and the demoted action is followed again", async () => {
    const engine = makeEngine();
    await engine.start();
    const first = await sendStack(engine);
    chain.mine({ hash: first.hash!, account: ALICE, nonce: 0 });
    await settle();
    indexer.rows = [rowFor(engine.store.get(first.id)!)];
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(first.id)?.status).toBe("reconciled");
    const second = await sendStack(engine);
    chain.mine({ hash: second.hash!, account: ALICE, nonce: 1 });
    await settle();
    expect(engine.store.get(second.id)?.status).toBe("confirmed");
    expect(chain.isWatched(first.hash!)).toBe(false);

    // The first one's row is gone (its transaction is back in the node's pool); the second's came.
    chain.reorg({ hashes: [first.hash!], account: ALICE, nonceAfter: 0, keep: true });
    indexer.rows = [rowFor(engine.store.get(second.id)!)];
    const setItem = vi.spyOn(storage, "setItem");
    indexer.push(chain.head);
    await settle();

    expect(engine.store.get(first.id)).toMatchObject({ status: "pending", reorged: true, blockNumber: undefined });
    expect(engine.store.get(second.id)?.status).toBe("reconciled");
    expect(setItem).toHaveBeenCalledTimes(1);
    expect(chain.isWatched(first.hash!)).toBe(true);
    expect(engine.health().pending).toBe(1);
    expect(chain.sent).toHaveLength(2);
  });

  test("actions timing out together fail in one save", async () => {
    const engine = makeEngine();
    await engine.start();
    const drafts = Array.from({ length: 3 }, () => engine.submit({ account: ALICE, params: STACK }));
    await settle();
    expect(drafts.map((d) => engine.store.get(d.id)?.status)).toEqual(["pending", "pending", "pending"]);
    const setItem = vi.spyOn(storage, "setItem");
    clock.advance(10 * 60 * 1000);
    await settle();
    expect(drafts.map((d) => engine.store.get(d.id)?.error?.reason)).toEqual(["timeout", "timeout", "timeout"]);
    expect(setItem).toHaveBeenCalledTimes(1);
    expect(engine.health()).toMatchObject({ pending: 0, failed: 3 });
  });
});

describe("failures", () => {
  test("a revert fails with the reason; a retry is refused with a clear error and changes nothing", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0, status: "reverted", revertReason: "BelowMinimum(1, 2)" });
    await settle();
    const failed = engine.store.get(action.id)!;
    expect(failed).toMatchObject({ status: "failed", error: { reason: "reverted", message: "reverted: BelowMinimum(1, 2)" } });
    expect(engine.health()).toMatchObject({ failed: 1, pending: 0 });
    const saved = storage.getItem(engine.store.key);

    expect(() => engine.retry(action.id)).toThrow(RetryRefusedError);
    expect(() => engine.retry(action.id)).toThrow(
      `Action ${action.id} cannot be retried: it reverted on chain, and the same call would revert again.`,
    );
    await settle();
    expect(engine.store.get(action.id)).toEqual(failed);
    expect(storage.getItem(engine.store.key)).toBe(saved);
    expect(chain.sent).toHaveLength(1);
  });

  test("a refusal before sending gets no retry either", async () => {
    const engine = makeEngine();
    await engine.start();
    chain.sendError = new Error("would revert: BelowMinimum(1, 2)");
    const draft = engine.submit({ account: ALICE, params: STACK });
    await settle();
    expect(engine.store.get(draft.id)?.error?.reason).toBe("rejected");
    expect(() => engine.retry(draft.id)).toThrow(/cannot be retried: it was refused before sending/);
    expect(engine.store.get(draft.id)?.status).toBe("failed");
    expect(chain.calls.filter((c) => c === "send")).toHaveLength(1);
  });

  test("a wallet rejection fails, says you rejected it, offers no retry and spends no nonce", async () => {
    const engine = makeEngine();
    await engine.start();
    chain.sendError = new UserRejectedError(USER_REJECTED_MESSAGE);
    const draft = engine.submit({ account: ALICE, params: STACK });
    await settle();
    expect(engine.store.get(draft.id)).toMatchObject({
      status: "failed",
      nonce: undefined,
      reservedAtBlock: undefined,
      error: { reason: "rejected", message: expect.stringMatching(/^You rejected it in your wallet, so nothing was sent\./) },
    });
    expect(chain.sent).toHaveLength(0);
    expect(engine.health()).toMatchObject({ drafts: 0, pending: 0, failed: 1 });
    expect(() => engine.retry(draft.id)).toThrow(RetryRefusedError);
    expect(chain.calls.filter((c) => c === "send")).toHaveLength(1);
    // The nonce it had reserved is the next action's.
    const next = engine.submit({ account: ALICE, params: STACK });
    await settle();
    expect(chain.sent).toEqual([expect.objectContaining({ actionId: next.id, nonce: 0 })]);
  });

  test("only failed, dropped or replaced actions can be retried", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    expect(() => engine.retry(action.id)).toThrow(/is pending/);
    expect(() => engine.retry("nope")).toThrow(/unknown action/);
  });
});

describe("replacement", () => {
  test("a speed-up (repriced) keeps the action and follows the new hash to reconciliation", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    const replacement = chain.replace({ hash: action.hash!, account: ALICE, nonce: 0, reason: "repriced" });
    await settle();
    const after = engine.store.get(action.id)!;
    expect(after).toMatchObject({ status: "confirmed", hash: replacement.hash, hashes: [action.hash, replacement.hash] });
    indexer.rows = [rowFor(after)];
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "reconciled", hash: replacement.hash });
  });

  test("a speed-up the receipt watch missed is found by nonce on the next pushed block", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    // Mined under another hash with the same call; the watcher of the old hash says nothing.
    chain.head += 1n;
    chain.latestNonce.set(ALICE.toLowerCase(), 1);
    chain.byNonce.set(`${ALICE.toLowerCase()}:0`, { hash: "0x00000000000000000000000000000000000000000000000000000000000000bb", sameCall: true });
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({
      status: "pending",
      hash: "0x00000000000000000000000000000000000000000000000000000000000000bb",
      hashes: [action.hash, "0x00000000000000000000000000000000000000000000000000000000000000bb"],
    });
    expect(chain.isWatched("0x00000000000000000000000000000000000000000000000000000000000000bb")).toBe(true);
    expect(chain.sent).toHaveLength(1);
  });

  test("a different call in the action's nonce slot marks it replaced on the next pushed block", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    chain.head += 1n;
    chain.latestNonce.set(ALICE.toLowerCase(), 1);
    chain.byNonce.set(`${ALICE.toLowerCase()}:0`, { hash: "0x00000000000000000000000000000000000000000000000000000000000000cc", sameCall: false });
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({
      status: "replaced",
      replacedBy: "0x00000000000000000000000000000000000000000000000000000000000000cc",
    });
  });

  test.each(["cancelled", "replaced"] as const)("%s by another transaction: status replaced, naming it", async (reason) => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    const other = chain.replace({ hash: action.hash!, account: ALICE, nonce: 0, reason });
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "replaced", replacedBy: other.hash, error: { reason } });
    expect(engine.health().failed).toBe(1);
  });

  test("a cancellation found by nonce (no watcher saw it) is told apart from another call", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    // The cancellation took nonce 0 and the original left the mempool.
    chain.head += 1n;
    chain.known.delete(action.hash!);
    chain.latestNonce.set(ALICE.toLowerCase(), 1);
    chain.byNonce.set(`${ALICE.toLowerCase()}:0`, { hash: hashOf(0xca), sameCall: false, cancel: true });
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({
      status: "replaced",
      replacedBy: hashOf(0xca),
      error: { reason: "cancelled", message: `cancelled: nonce 0 was used by ${hashOf(0xca)}` },
    });
    await engine.retry(action.id);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "pending", nonce: 1 });
    expect(chain.sent.map((s) => s.nonce)).toEqual([0, 1]);
  });

  test("replaced by a different call: no retry (resending could repeat what that call did)", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    chain.replace({ hash: action.hash!, account: ALICE, nonce: 0, reason: "replaced" });
    await settle();
    expect(() => engine.retry(action.id)).toThrow(RetryRefusedError);
    expect(engine.store.get(action.id)?.status).toBe("replaced");
    expect(chain.sent).toHaveLength(1);
  });

  test("a replaced action can be retried: a fresh send with the next nonce", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    chain.replace({ hash: action.hash!, account: ALICE, nonce: 0, reason: "cancelled" });
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("replaced");
    await engine.retry(action.id);
    await settle();
    expect(chain.sent.map((s) => s.nonce)).toEqual([0, 1]);
    expect(engine.store.get(action.id)).toMatchObject({ status: "pending", nonce: 1, hashes: [chain.sent[1]!.hash] });
    expect(engine.store.get(action.id)?.replacedBy).toBeUndefined();
  });

  test("a nonce consumed by a different hash is detected when no watcher saw it", async () => {
    const engine = makeEngine({ timeoutMs: 5_000 });
    await engine.start();
    const action = await sendStack(engine);
    clock.advance(5_000);
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("failed");
    // Meanwhile another wallet used nonce 0 for something else.
    chain.latestNonce.set(ALICE.toLowerCase(), 1);
    chain.byNonce.set(`${ALICE.toLowerCase()}:0`, { hash: "0xabc0000000000000000000000000000000000000000000000000000000000000", sameCall: false });
    await engine.retry(action.id);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "replaced", replacedBy: "0xabc0000000000000000000000000000000000000000000000000000000000000" });
    expect(chain.sent).toHaveLength(1);
  });
});

describe("timeouts and retry without a second spend", () => {
  test("default timeout is 10 minutes: failed 'timed out', the stream is released", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    clock.advance(10 * 60 * 1000 - 1);
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("pending");
    clock.advance(1);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "failed", error: { reason: "timeout" } });
    expect(engine.store.get(action.id)?.error?.message).toMatch(/timed out/);
    expect(indexer.subscribed).toBe(false);
    expect(clock.timerCount).toBe(0);
  });

  test("chain wins after a timeout: a late receipt moves the failed action to confirmed", async () => {
    const engine = makeEngine({ timeoutMs: 30_000 });
    await engine.start();
    const action = await sendStack(engine);
    clock.advance(30_000);
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("failed");
    expect(indexer.subscribed).toBe(false);
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("confirmed");
    expect(engine.store.get(action.id)?.error).toBeUndefined();
    // Open again, so the stream is back to see it indexed.
    expect(indexer.subscribed).toBe(true);
  });

  test("retry with the nonce still free resends with the same nonce, replacing the stuck one", async () => {
    const engine = makeEngine({ timeoutMs: 30_000 });
    await engine.start();
    const action = await sendStack(engine);
    clock.advance(30_000);
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("failed");

    await engine.retry(action.id);
    await settle();
    expect(chain.sent.map((s) => ({ nonce: s.nonce, replace: s.replace }))).toEqual([
      { nonce: 0, replace: false },
      { nonce: 0, replace: true },
    ]);
    const retried = engine.store.get(action.id)!;
    expect(retried).toMatchObject({ status: "pending", nonce: 0, hash: chain.sent[1]!.hash });
    expect(retried.hashes).toEqual([chain.sent[0]!.hash, chain.sent[1]!.hash]);

    // Whichever of the two lands, it is this action's.
    chain.mine({ hash: chain.sent[0]!.hash, account: ALICE, nonce: 0 });
    indexer.rows = [rowFor({ ...retried, hash: chain.sent[0]!.hash })];
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "reconciled", hash: chain.sent[0]!.hash });
  });

  test("retry after the original landed late adopts it and sends nothing", async () => {
    const engine = makeEngine({ timeoutMs: 30_000 });
    await engine.start();
    const action = await sendStack(engine);
    clock.advance(30_000);
    await settle();
    // The original is mined after the timeout, with no watcher left to say so.
    chain.head += 1n;
    chain.latestNonce.set(ALICE.toLowerCase(), 1);
    chain.byNonce.set(`${ALICE.toLowerCase()}:0`, { hash: action.hash!, sameCall: true });
    await engine.retry(action.id);
    await settle();
    expect(chain.sent).toHaveLength(1);
    expect(engine.store.get(action.id)).toMatchObject({ status: "pending", hash: action.hash });
  });

  test("a retry that the node refuses as a used nonce sends nothing more and resolves by nonce", async () => {
    const engine = makeEngine({ timeoutMs: 30_000 });
    await engine.start();
    const action = await sendStack(engine);
    clock.advance(30_000);
    await settle();
    chain.sendError = new NonceUsedError("nonce too low");
    await engine.retry(action.id);
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("draft");
    expect(chain.sent).toHaveLength(1);
    chain.head += 1n;
    chain.latestNonce.set(ALICE.toLowerCase(), 1);
    chain.byNonce.set(`${ALICE.toLowerCase()}:0`, { hash: action.hash!, sameCall: true });
    await engine.nudge();
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "pending", hash: action.hash });
    expect(chain.sent).toHaveLength(1);
  });
});

describe("reorgs", () => {
  async function reconciledStack(engine: SyncEngine) {
    const action = await sendStack(engine);
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    indexer.rows = [rowFor(engine.store.get(action.id)!)];
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("reconciled");
    return engine.store.get(action.id)!;
  }

  test("a reconciled row that disappears is demoted to pending, then re-confirmed", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await reconciledStack(engine);

    chain.reorg({ hashes: [action.hash!], account: ALICE, nonceAfter: 0, keep: true });
    indexer.rows = [];
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "pending", reorged: true });
    expect(engine.health().pending).toBe(1);
    expect(chain.isWatched(action.hash!)).toBe(true);

    const receipt = chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("confirmed");
    indexer.rows = [rowFor(engine.store.get(action.id)!, { blockNumber: receipt.blockNumber })];
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "reconciled", reorged: true, blockNumber: receipt.blockNumber });
    expect(chain.sent).toHaveLength(1);
  });

  test("a reorged transaction the node forgot, with its nonce free, is dropped; retry reuses the nonce", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await reconciledStack(engine);
    chain.reorg({ hashes: [action.hash!], account: ALICE, nonceAfter: 0 });
    indexer.rows = [];
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "dropped", error: { reason: "dropped" } });

    await engine.retry(action.id);
    await settle();
    expect(chain.sent.map((s) => s.nonce)).toEqual([0, 0]);
    expect(engine.store.get(action.id)?.status).toBe("pending");
  });

  test("a confirmed action whose block was indexed without its row is demoted", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    const receipt = chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    chain.reorg({ hashes: [action.hash!], account: ALICE, nonceAfter: 0, keep: true });
    indexer.push(receipt.blockNumber);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "pending", reorged: true });
  });

  test("a reorg after the finality window is no longer watched", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await reconciledStack(engine);
    indexer.push(action.blockNumber! + 5n);
    await settle();
    expect(indexer.subscribed).toBe(false);
    indexer.rows = [];
    await engine.nudge();
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("reconciled");
  });
});

describe("offline, reloads and tabs", () => {
  test("offline: the action stays a draft, survives a reload, and is sent exactly once on reconnect", async () => {
    chain.unreachable = true;
    const first = makeEngine();
    await first.start();
    const draft = first.submit({ account: ALICE, params: STACK });
    await settle();
    expect(first.store.get(draft.id)?.status).toBe("draft");
    expect(first.health().chainOnline).toBe(false);
    // While a draft waits the stream is held: a pushed block is the cue to try again.
    expect(indexer.subscribed).toBe(true);
    first.stop();
    expect(indexer.subscribed).toBe(false);

    // Reload: a new store and engine over the same storage.
    const second = makeEngine();
    expect(second.store.get(draft.id)).toMatchObject({ status: "draft", params: STACK });
    await second.start();
    await settle();
    expect(chain.sent).toHaveLength(0);

    chain.unreachable = false;
    indexer.push(chain.head);
    await settle();
    await second.nudge();
    await settle();
    expect(chain.sent).toHaveLength(1);
    expect(second.store.get(draft.id)?.status).toBe("pending");
  });

  test("a draft of another account waits for that account's wallet instead of failing", async () => {
    chain.account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    const engine = makeEngine();
    await engine.start();
    const draft = engine.submit({ account: ALICE, params: STACK });
    await settle();
    expect(engine.store.get(draft.id)?.status).toBe("draft");
    expect(chain.sent).toHaveLength(0);
    engine.stop();

    chain.account = ALICE;
    const alice = makeEngine();
    await alice.start();
    await settle();
    expect(alice.store.get(draft.id)?.status).toBe("pending");
    expect(chain.sent).toHaveLength(1);
  });

  test("a refused stream (the indexer answered 503) is not an unreachable indexer: a draft is sent at once", async () => {
    const engine = makeEngine();
    await engine.start();
    engine.watchIndex();
    indexer.refuse();
    await settle();
    expect(engine.health()).toMatchObject({ connected: false });
    expect(engine.health().indexerOnline).not.toBe(false);
    expect(engine.health().lastError).toMatch(/refused: 503/);

    engine.submit({ account: ALICE, params: STACK });
    await settle();
    expect(chain.sent).toHaveLength(1);
    engine.stop();
  });

  test("with the indexer unreachable, a new action stays a draft until the stream is back", async () => {
    const engine = makeEngine();
    await engine.start();
    const first = await sendStack(engine);
    indexer.unreachable = true;
    indexer.fail();
    await settle();
    expect(engine.health().indexerOnline).toBe(false);

    const draft = engine.submit({ account: ALICE, params: STACK });
    await settle();
    expect(engine.store.get(draft.id)?.status).toBe("draft");
    expect(chain.sent).toHaveLength(1);

    indexer.unreachable = false;
    chain.mine({ hash: first.hash!, account: ALICE, nonce: 0 });
    indexer.push(chain.head);
    await settle();
    expect(engine.store.get(draft.id)).toMatchObject({ status: "pending", nonce: 1 });
    expect(chain.sent).toHaveLength(2);
  });

  test("reload mid-send with the nonce still free: sent with that same nonce", async () => {
    const engine = makeEngine();
    await engine.start();
    chain.sendError = new UnreachableError("connection reset");
    const draft = engine.submit({ account: ALICE, params: STACK });
    await settle();
    expect(engine.store.get(draft.id)).toMatchObject({ status: "draft", nonce: 0 });
    engine.stop();
    // Meanwhile another action of the same account took the next nonce in the pool.
    chain.known.set("0x00000000000000000000000000000000000000000000000000000000000000dd", null);

    const reloaded = makeEngine();
    await reloaded.start();
    await settle();
    expect(chain.sent.map((s) => ({ nonce: s.nonce, replace: s.replace }))).toEqual([{ nonce: 0, replace: false }]);
    expect(reloaded.store.get(draft.id)).toMatchObject({ status: "pending", nonce: 0 });
  });

  test("two tabs over one storage and lock send a draft once", async () => {
    chain.unreachable = true;
    const lock = memoryLock();
    const tabA = makeEngine({ lock });
    const tabB = makeEngine({ lock });
    await tabA.start();
    await tabB.start();
    const draft = tabA.submit({ account: ALICE, params: STACK });
    tabB.store.reload();
    expect(tabB.store.get(draft.id)?.status).toBe("draft");
    chain.unreachable = false;
    await Promise.all([tabA.nudge(), tabB.nudge()]);
    await settle();
    expect(chain.sent).toHaveLength(1);
    tabA.store.reload();
    expect(tabA.store.get(draft.id)?.status).toBe("pending");
  });

  test("reload mid-send (nonce saved, hash not): the sent transaction is found by nonce, not sent again", async () => {
    const engine = makeEngine();
    await engine.start();
    chain.sendError = new UnreachableError("connection reset");
    const draft = engine.submit({ account: ALICE, params: STACK });
    await settle();
    const saved = engine.store.get(draft.id)!;
    expect(saved).toMatchObject({ status: "draft", nonce: 0 });
    engine.stop();
    // The node did receive it before the connection broke, and mined it.
    chain.head += 1n;
    chain.latestNonce.set(ALICE.toLowerCase(), 1);
    chain.byNonce.set(`${ALICE.toLowerCase()}:0`, { hash: "0x00000000000000000000000000000000000000000000000000000000000000aa", sameCall: true });

    const reloaded = makeEngine();
    await reloaded.start();
    await settle();
    expect(chain.sent).toHaveLength(0);
    expect(reloaded.store.get(draft.id)).toMatchObject({ status: "pending", hash: "0x00000000000000000000000000000000000000000000000000000000000000aa", nonce: 0 });
  });

  test("reload while pending: the receipt is followed again and reconciles", async () => {
    const first = makeEngine();
    await first.start();
    const action = await sendStack(first);
    first.stop();
    const second = makeEngine();
    await second.start();
    await settle();
    expect(chain.isWatched(action.hash!)).toBe(true);
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    indexer.rows = [rowFor(second.store.get(action.id)!)];
    indexer.push(chain.head);
    await settle();
    expect(second.store.get(action.id)?.status).toBe("reconciled");
    expect(chain.sent).toHaveLength(1);
  });

  test("the indexer being down keeps actions open and says so", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    indexer.unreachable = true;
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("confirmed");
    expect(engine.health().indexerOnline).toBe(false);
  });

  test("a failed read of the index is tried again with backoff, without waiting for a new block", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    // The index is busy (a 503) when the receipt arrives; the row is indexed meanwhile, and no
    // further block is pushed.
    indexer.unreachable = true;
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    const failedFetches = indexer.fetches.length;
    expect(engine.store.get(action.id)?.status).toBe("confirmed");
    clock.advance(500);
    await settle();
    expect(indexer.fetches.length).toBe(failedFetches + 1);
    clock.advance(999);
    await settle();
    expect(indexer.fetches.length, "the second retry waits twice as long").toBe(failedFetches + 1);
    indexer.unreachable = false;
    indexer.rows.push(rowFor(engine.store.get(action.id)!));
    clock.advance(1);
    await settle();
    expect(engine.store.get(action.id)?.status).toBe("reconciled");
    expect(engine.health().indexerOnline).toBe(true);
    // Once it succeeded, no more retries are scheduled.
    const fetches = indexer.fetches.length;
    clock.advance(60_000);
    await settle();
    expect(indexer.fetches.length).toBe(fetches);
  });
});

describe("one submission per intent", () => {
  test("a second submit with the same intentId returns the first action and sends nothing", async () => {
    const engine = makeEngine();
    await engine.start();
    const first = engine.submit({ account: ALICE, params: STACK, intentId: "stack-click-1" });
    const saved = storage.getItem(engine.store.key);
    const again = engine.submit({ account: ALICE, params: STACK, intentId: "stack-click-1" });
    expect(again).toBe(engine.store.get(first.id));
    expect(storage.getItem(engine.store.key), "nothing written").toBe(saved);
    await settle();
    expect(engine.store.list()).toHaveLength(1);
    expect(chain.sent).toHaveLength(1);

    // After the send, a repeat still finds it (pending now) and changes nothing.
    const pending = engine.store.get(first.id)!;
    expect(pending.status).toBe("pending");
    expect(engine.submit({ account: ALICE, params: STACK, intentId: "stack-click-1" })).toEqual(pending);
    await settle();
    expect(chain.sent).toHaveLength(1);
    expect(engine.store.get(first.id)).toEqual(pending);

    // Another intent is another action.
    engine.submit({ account: ALICE, params: STACK, intentId: "stack-click-2" });
    await settle();
    expect(chain.sent.map((s) => s.nonce)).toEqual([0, 1]);
  });

  test("two tabs over one storage: the second tab's submit of the same intent sends nothing", async () => {
    const lock = memoryLock();
    const tabA = makeEngine({ lock });
    const tabB = makeEngine({ lock });
    await tabA.start();
    await tabB.start();
    const first = tabA.submit({ account: ALICE, params: STACK, intentId: "confirm-1" });
    // Tab B has not heard of it (no storage event yet): it re-reads storage before deciding.
    expect(tabB.store.get(first.id)).toBeUndefined();
    const again = tabB.submit({ account: ALICE, params: STACK, intentId: "confirm-1" });
    expect(again.id).toBe(first.id);
    await Promise.all([tabA.nudge(), tabB.nudge()]);
    await settle();
    expect(chain.sent).toHaveLength(1);
    tabA.store.reload();
    tabB.store.reload();
    expect(tabA.store.list()).toHaveLength(1);
    expect(tabB.store.list()).toHaveLength(1);
  });

  test("submits without an intentId stay independent", async () => {
    const engine = makeEngine();
    await engine.start();
    engine.submit({ account: ALICE, params: STACK });
    engine.submit({ account: ALICE, params: STACK });
    await settle();
    expect(chain.sent).toHaveLength(2);
  });
});

describe("retry only where it can succeed", () => {
  test("a timed-out action can be retried, keeping its nonce", async () => {
    const engine = makeEngine({ timeoutMs: 5_000 });
    await engine.start();
    const action = await sendStack(engine);
    clock.advance(5_000);
    await settle();
    expect(engine.store.get(action.id)?.error?.reason).toBe("timeout");
    await engine.retry(action.id);
    await settle();
    expect(chain.sent.map((s) => ({ nonce: s.nonce, replace: s.replace }))).toEqual([
      { nonce: 0, replace: false },
      { nonce: 0, replace: true },
    ]);
  });

  test("a dropped action can be retried, keeping its nonce", async () => {
    const engine = makeEngine();
    await engine.start();
    const action = await sendStack(engine);
    engine.store.update(action.id, { status: "dropped", error: { reason: "dropped", message: "dropped" } });
    chain.known.delete(action.hash!);
    await engine.retry(action.id);
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "pending", nonce: 0 });
    expect(chain.sent.map((s) => s.nonce)).toEqual([0, 0]);
  });
});

describe("dismiss", () => {
  /** Sends a stack and lets the chain revert it; returns the failed action. */
  async function revertedStack(engine: SyncEngine): Promise<Action> {
    const action = await sendStack(engine);
    chain.mine({ hash: action.hash!, account: ALICE, nonce: action.nonce!, status: "reverted" });
    await settle();
    return engine.store.get(action.id)!;
  }

  test("a dismissed failure leaves the counts, is saved, and a second tab sees it", async () => {
    const tabA = makeEngine();
    const tabB = makeEngine();
    await tabA.start();
    await tabB.start();
    const failed = await revertedStack(tabA);
    tabB.store.reload();
    expect(tabA.health().failed).toBe(1);
    expect(tabB.health().failed).toBe(1);

    tabA.dismiss(failed.id);
    expect(tabA.store.get(failed.id)?.dismissedAt).toBe(clock.now());
    expect(tabA.health().failed).toBe(0);
    // Tab B writes before it has handled the storage event: the dismissal survives.
    const other = tabB.submit({ account: ALICE, params: STACK });
    await settle();
    tabB.store.reload();
    expect(tabB.store.get(failed.id)?.dismissedAt).toBe(clock.now());
    expect(tabB.health()).toMatchObject({ failed: 0, pending: 1 });

    // A reload reads it back, still dismissed.
    const reloaded = makeEngine();
    expect(reloaded.store.get(failed.id)?.dismissedAt).toBe(clock.now());
    expect(reloaded.health().failed).toBe(0);
    expect(reloaded.store.get(other.id)?.status).toBe("pending");
    // Dismissed is not retried either.
    expect(() => reloaded.retry(failed.id)).toThrow("cannot be retried: it was dismissed");
  });

  test("only a finished failure can be dismissed, once; nothing changes otherwise", async () => {
    const engine = makeEngine();
    await engine.start();
    const pending = await sendStack(engine);
    expect(() => engine.dismiss(pending.id)).toThrow(DismissRefusedError);
    expect(() => engine.dismiss(pending.id)).toThrow(`Action ${pending.id} is pending; only failed, dropped or replaced actions can be dismissed.`);
    expect(engine.store.get(pending.id)?.dismissedAt).toBeUndefined();
    expect(() => engine.dismiss("nope")).toThrow(/unknown action/);

    const failed = await revertedStack(engine);
    expect(failed.id).not.toBe(pending.id);
    engine.dismiss(failed.id);
    const saved = storage.getItem(engine.store.key);
    expect(() => engine.dismiss(failed.id)).toThrow(`Action ${failed.id} is already dismissed.`);
    expect(storage.getItem(engine.store.key)).toBe(saved);
  });

  test("a dismissed timeout whose transaction lands after all is shown again", async () => {
    const engine = makeEngine({ timeoutMs: 5_000 });
    await engine.start();
    const action = await sendStack(engine);
    clock.advance(5_000);
    await settle();
    engine.dismiss(action.id);
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0 });
    await settle();
    expect(engine.store.get(action.id)).toMatchObject({ status: "confirmed", dismissedAt: undefined });
    expect(engine.health().pending).toBe(1);
  });
});

describe("counts per account", () => {
  const BOB: Address = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

  test("the health counts only the current account's actions; another account's failures are not counted", async () => {
    chain.account = ALICE;
    const alice = makeEngine();
    await alice.start();
    const action = await sendStack(alice);
    chain.mine({ hash: action.hash!, account: ALICE, nonce: 0, status: "reverted" });
    await settle();
    expect(alice.health().failed).toBe(1);
    alice.stop();

    // The same browser, another dev account: Alice's failure is hers alone.
    chain.account = BOB;
    const bob = makeEngine();
    await bob.start();
    expect(bob.store.get(action.id)?.status).toBe("failed");
    expect(bob.health()).toMatchObject({ failed: 0, pending: 0, drafts: 0 });
    chain.unreachable = true;
    bob.submit({ account: BOB, params: STACK });
    await settle();
    expect(bob.health()).toMatchObject({ drafts: 1, failed: 0 });
    bob.stop();

    chain.account = ALICE;
    const back = makeEngine();
    expect(back.health()).toMatchObject({ failed: 1, drafts: 0 });
  });
});
