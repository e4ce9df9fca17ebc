/**
 * One state machine, two runners: the web client's sync engine (web/src/sync/engine.ts, on
 * scripted ports and a fake clock) and the ledger's follower (`decide` in ledger/follower.ts, on
 * scripted observations) go through the same scenarios and must make the same status changes,
 * each one a row of the shared table (ledger/transitions.ts).
 */
import type { Address, Hash } from "viem";
import { describe, expect, test } from "vitest";
import { SAT } from "../common/chain";
import type { LedgerStatus } from "../common/ledger-api";
import { type Observation, decide } from "../ledger/follower";
import type { LedgerRecord } from "../ledger/store";
import { TRANSITIONS, isAllowedTransition } from "../ledger/transitions";
import { SyncEngine } from "../web/src/sync/engine";
import { ActionStore, memoryStorage } from "../web/src/sync/store";
import type { Action } from "../web/src/sync/types";
import { FakeChain, FakeClock, FakeIndexer, settle } from "./_support/fakes";

const ALICE: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const TIMEOUT_MS = 1_000;
type Pair = [LedgerStatus, LedgerStatus];

type EngineWorld = { engine: SyncEngine; chain: FakeChain; indexer: FakeIndexer; clock: FakeClock; action: () => Action };

/** A scenario: what happens, told once to the engine (through its ports) and once to the
 * follower (as what each pass observes), and the status changes both must make. */
type Scenario = {
  name: string;
  expected: Pair[];
  engine: (world: EngineWorld) => Promise<void>;
  /** One entry per follower pass; `refused` makes the broadcast of a draft fail at the node. */
  follower: (Partial<Observation> & { refused?: boolean })[];
};

/** Mines the action's transaction on the fake chain and lets the engine see it. */
async function mine(world: EngineWorld, status: "success" | "reverted" = "success") {
  const receipt = world.chain.mine({ hash: world.action().hash!, account: ALICE, nonce: world.action().nonce!, status });
  await settle();
  return receipt;
}

/** Puts the action's row in the fake index and pushes its block. */
async function index(world: EngineWorld, block: bigint) {
  const a = world.action();
  world.indexer.rows = [{ kind: "contribution", transactionHash: a.hash!, logIndex: 0, blockNumber: block, chamaId: 1n, account: ALICE.toLowerCase() as Address, amount: 1_000n * SAT }];
  world.indexer.push(block);
  await settle();
}

const MINED = { status: "success", blockNumber: 5n, blockHash: `0x${"aa".repeat(32)}` as Hash } as const;
const REVERTED = { ...MINED, status: "reverted" } as const;

const scenarios: Scenario[] = [
  {
    name: "mined, then indexed",
    expected: [["draft", "pending"], ["pending", "confirmed"], ["confirmed", "reconciled"]],
    engine: async (w) => {
      const receipt = await mine(w);
      await index(w, receipt.blockNumber);
    },
    follower: [{}, { known: true, receipt: MINED }, { known: true, receipt: MINED, indexed: { chamaId: 1n } }],
  },
  {
    name: "reverted on chain",
    expected: [["draft", "pending"], ["pending", "failed"]],
    engine: async (w) => {
      await mine(w, "reverted");
    },
    follower: [{}, { known: true, receipt: REVERTED, revertReason: "BelowMinimum(1, 2)" }],
  },
  {
    name: "refused by the node",
    expected: [["draft", "failed"]],
    engine: async () => undefined,
    follower: [{ refused: true }],
  },
  {
    name: "no receipt in time, then mined after all",
    expected: [["draft", "pending"], ["pending", "failed"], ["failed", "confirmed"]],
    engine: async (w) => {
      w.clock.advance(TIMEOUT_MS + 1);
      await settle();
      await mine(w);
    },
    follower: [{}, { known: true, now: TIMEOUT_MS + 1 }, { known: true, receipt: MINED, now: TIMEOUT_MS + 2 }],
  },
  {
    name: "another transaction took its nonce",
    expected: [["draft", "pending"], ["pending", "replaced"]],
    engine: async (w) => {
      w.chain.replace({ hash: w.action().hash!, account: ALICE, nonce: w.action().nonce!, reason: "replaced" });
      await settle();
    },
    follower: [{}, { known: false, minedNonce: 1 }],
  },
  {
    name: "a reorg takes it out after it was indexed",
    expected: [["draft", "pending"], ["pending", "confirmed"], ["confirmed", "reconciled"], ["reconciled", "pending"]],
    engine: async (w) => {
      const receipt = await mine(w);
      await index(w, receipt.blockNumber);
      w.chain.reorg({ hashes: [w.action().hash!], account: ALICE, nonceAfter: 0, keep: true });
      w.indexer.rows = [];
      w.indexer.push(receipt.blockNumber + 1n);
      await settle();
    },
    follower: [{}, { known: true, receipt: MINED }, { known: true, receipt: MINED, indexed: { chamaId: 1n } }, { known: true, receipt: null }],
  },
];

/** Runs a scenario on the engine and returns every status change its store saw. */
async function runEngine(scenario: Scenario): Promise<Pair[]> {
  const clock = new FakeClock();
  const chain = new FakeChain();
  const indexer = new FakeIndexer();
  if (scenario.follower[0]?.refused) chain.sendError = new Error("insufficient funds for gas * price + value");
  const store = new ActionStore({ storage: memoryStorage(), now: clock.now });
  const engine = new SyncEngine({ store, chain, indexer, clock, timeoutMs: TIMEOUT_MS, finalityBlocks: 5n, newId: () => "action-1" });
  const pairs: Pair[] = [];
  let last: LedgerStatus | undefined;
  store.subscribe(() => {
    const status = store.get("action-1")?.status;
    if (status && last && status !== last) pairs.push([last, status]);
    if (status) last = status;
  });
  await engine.start();
  engine.submit({ account: ALICE, params: { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT } });
  last = "draft";
  await settle();
  await scenario.engine({ engine, chain, indexer, clock, action: () => store.get("action-1")! });
  engine.stop();
  return pairs;
}

/** Runs a scenario on the follower's `decide`, applying each step to an in-memory record. */
function runFollower(scenario: Scenario): Pair[] {
  let record: LedgerRecord = {
    seq: 1n, hash: `0x${"11".repeat(32)}`, chainId: 31337, from: ALICE, nonce: 0, to: ALICE, kind: "contribution", chamaId: 1n, amount: 1_000n * SAT,
    recipient: null, name: null, raw: "0x02", status: "draft", origin: "relay", blockNumber: null, blockHash: null, error: null, replacedBy: null,
    rebroadcasts: 0, createdAt: new Date(0), updatedAt: new Date(0), sentAt: null,
  };
  const pairs: Pair[] = [];
  for (const pass of scenario.follower) {
    const seen: Observation = { now: 0, receipt: null, known: false, minedNonce: 0, indexed: undefined, ...pass };
    for (let i = 0; i < 4; i++) {
      const step = decide(record, seen, { timeoutMs: TIMEOUT_MS });
      if (step.kind === "none") break;
      const to: LedgerStatus = step.kind === "broadcast" ? (pass.refused ? "failed" : "pending") : step.to;
      const patch = step.kind === "broadcast" ? (pass.refused ? { error: { reason: "rejected" as const, message: "refused" } } : { sentAt: new Date(seen.now) }) : (step.patch ?? {});
      if (to !== record.status) {
        expect(isAllowedTransition({ from: record.status, to, side: "server" }), `${record.status} -> ${to}`).toBe(true);
        pairs.push([record.status, to]);
      }
      const { rebroadcast: _rebroadcast, ...fields } = patch as typeof patch & { rebroadcast?: boolean };
      record = { ...record, ...fields, status: to };
      if (step.kind === "move" && (step.rebroadcast || step.to === record.status)) break;
    }
  }
  return pairs;
}

describe("one state machine: the sync engine and the ledger's follower", () => {
  test.each(scenarios)("$name: both make the same changes, each in the shared table", async (scenario) => {
    const engine = await runEngine(scenario);
    const follower = runFollower(scenario);
    expect(engine).toEqual(scenario.expected);
    expect(follower).toEqual(scenario.expected);
    for (const [from, to] of scenario.expected) expect(isAllowedTransition({ from, to }), `${from} -> ${to}`).toBe(true);
  });

  test("the table names each change once, and every server-side row is reached by a scenario", () => {
    const keys = TRANSITIONS.map((t) => `${t.from}->${t.to}`);
    expect(new Set(keys).size).toBe(keys.length);
    const reached = new Set(scenarios.flatMap((s) => s.expected.map(([f, t]) => `${f}->${t}`)));
    const unreached = TRANSITIONS.filter((t) => t.by === "both" && !reached.has(`${t.from}->${t.to}`)).map((t) => `${t.from}->${t.to}`);
    // Not yet driven through both runners: a nonce used before the draft was sent, a drop with
    // nothing to rebroadcast, a reorg of a confirmed one.
    expect(unreached).toEqual(["draft->replaced", "pending->dropped", "confirmed->pending"]);
  });
});
