/**
 * The engine's hold on the indexer's live stream while views watch the index: one stream for
 * any number of views, released with the last; "connected" only between the stream's open and
 * its next error; and the age of what was last seen of the chain and the indexer.
 */
import type { Address } from "viem";
import { beforeEach, describe, expect, test } from "vitest";
import { SAT } from "../../common/chain";
import { SyncEngine } from "../../web/src/sync/engine";
import { ActionStore, memoryStorage } from "../../web/src/sync/store";
import { FakeChain, FakeClock, FakeIndexer, settle } from "../_support/fakes";

const ALICE: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

let clock: FakeClock;
let chain: FakeChain;
let indexer: FakeIndexer;

/** An engine on fresh fakes with no actions. */
function makeEngine(): SyncEngine {
  return new SyncEngine({
    store: new ActionStore({ storage: memoryStorage(), now: clock.now }),
    chain,
    indexer,
    clock,
    finalityBlocks: 5n,
  });
}

beforeEach(() => {
  clock = new FakeClock();
  chain = new FakeChain();
  indexer = new FakeIndexer();
});

describe("watchIndex", () => {
  test("with nothing open, a watching view holds one stream; the last release closes it", async () => {
    const engine = makeEngine();
    await engine.start();
    expect(indexer.subscribed).toBe(false);

    const releaseA = engine.watchIndex();
    const releaseB = engine.watchIndex();
    expect(indexer.subscribeCount).toBe(1);
    expect(engine.health().live).toBe(true);

    releaseA();
    // A second call of the same release does not take the other view's hold.
    releaseA();
    expect(indexer.subscribed).toBe(true);
    releaseB();
    expect(indexer.subscribed).toBe(false);
    expect(engine.health()).toMatchObject({ live: false, connected: false });
    expect(indexer.subscribeCount).toBe(1);
  });

  test("a view watching before start gets the stream at start, before the first pass answers", () => {
    const engine = makeEngine();
    engine.watchIndex();
    expect(indexer.subscribed).toBe(false);
    void engine.start();
    expect(indexer.subscribed).toBe(true);
  });

  test("every pushed block reaches the health (the views' refetch cue) and reads the chain head", async () => {
    const engine = makeEngine();
    await engine.start();
    engine.watchIndex();
    chain.head = 7n;
    indexer.push(7n);
    await settle();
    expect(engine.health()).toMatchObject({ indexedBlock: 7n, chainHead: 7n, indexerOnline: true, chainOnline: true });
  });

  test("an open action keeps the stream after the last view is gone", async () => {
    const engine = makeEngine();
    await engine.start();
    const release = engine.watchIndex();
    engine.submit({ account: ALICE, params: { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT } });
    await settle();
    release();
    expect(indexer.subscribed).toBe(true);
  });

  test("stop releases the stream even while views still watch", async () => {
    const engine = makeEngine();
    await engine.start();
    engine.watchIndex();
    indexer.open();
    engine.stop();
    expect(indexer.subscribed).toBe(false);
    expect(engine.health()).toMatchObject({ live: false, connected: false });
  });
});

describe("drafts while the stream stays up", () => {
  test("a draft held back by an unreachable chain is tried again after a back-off, and sent once", async () => {
    const engine = makeEngine();
    await engine.start();
    engine.watchIndex();
    indexer.open();
    chain.unreachable = true;
    const draft = engine.submit({ account: ALICE, params: { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT } });
    await settle();
    expect(engine.store.get(draft.id)?.status).toBe("draft");

    // No cue comes (no online event, no reconnect): the back-off alone brings the next pass.
    clock.advance(500);
    await settle();
    expect(engine.store.get(draft.id)?.status).toBe("draft");
    chain.unreachable = false;
    clock.advance(1_000);
    await settle();
    expect(engine.store.get(draft.id)?.status).toBe("pending");
    clock.advance(8_000);
    await settle();
    expect(chain.sent).toHaveLength(1);
  });

  test("a draft held back by an indexer known to be down asks the index again, and goes once it answers", async () => {
    const engine = makeEngine();
    await engine.start();
    engine.watchIndex();
    indexer.open();
    indexer.unreachable = true;
    engine.noteIndexer({ online: false, error: "indexer unreachable" });
    const draft = engine.submit({ account: ALICE, params: { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT } });
    await settle();
    expect(engine.store.get(draft.id)?.status).toBe("draft");
    expect(chain.sent).toHaveLength(0);

    indexer.unreachable = false;
    clock.advance(500);
    await settle();
    expect(engine.store.get(draft.id)?.status).toBe("pending");
    expect(engine.health().indexerOnline).toBe(true);
    expect(chain.sent).toHaveLength(1);
  });
});

describe("connected and last seen", () => {
  test("connected only from the stream's open until its error; the error says the indexer is unreachable", async () => {
    const engine = makeEngine();
    await engine.start();
    engine.watchIndex();
    expect(engine.health().connected).toBe(false);

    clock.advance(1_000);
    indexer.open();
    expect(engine.health()).toMatchObject({ live: true, connected: true, indexerOnline: true, indexerSeenAt: clock.now() });
    const seenAt = clock.now();

    clock.advance(5_000);
    indexer.fail("server disconnected");
    expect(engine.health()).toMatchObject({ live: true, connected: false, indexerOnline: false, indexerSeenAt: seenAt });
    expect(engine.health().lastError).toContain("server disconnected");

    indexer.open();
    expect(engine.health()).toMatchObject({ connected: true, indexerOnline: true, indexerSeenAt: clock.now() });
  });

  test("the chain's last answer is dated; a failed read keeps that date", async () => {
    const engine = makeEngine();
    clock.advance(2_000);
    await engine.start();
    const seenAt = clock.now();
    expect(engine.health()).toMatchObject({ chainOnline: true, chainSeenAt: seenAt });

    clock.advance(3_000);
    chain.unreachable = true;
    await engine.nudge();
    expect(engine.health()).toMatchObject({ chainOnline: false, chainSeenAt: seenAt });
  });

  test("noteIndexer records answers and failures seen by the pages", async () => {
    const engine = makeEngine();
    await engine.start();
    engine.noteIndexer({ online: false, error: "indexer unreachable at http://indexer" });
    expect(engine.health()).toMatchObject({ indexerOnline: false, lastError: "indexer unreachable at http://indexer" });
    expect(engine.health().indexerSeenAt).toBeUndefined();
    clock.advance(1_000);
    engine.noteIndexer({ online: true });
    expect(engine.health()).toMatchObject({ indexerOnline: true, indexerSeenAt: clock.now() });
  });
});
