/**
 * One `describe` per contract event: what its handler (src/Chama.ts) writes, row by row. Each
 * test sends the transaction that emits the event through the real contract on anvil, waits
 * for the real indexer (`ponder start`, on PGlite and on PostgreSQL) to index its block, reads
 * every table through GraphQL, and asserts the exact rows that changed in each of the six
 * tables (an empty list for a table the event must leave alone). Expected values come from the
 * receipt and the block of that transaction.
 *
 * The tests share one chain and run in order: the chama created first receives the
 * contributions, which fund the payouts.
 */
import { type Address, type TransactionReceipt, parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import { accounts, type Chain, CHAIN_ID, chamaAs, databases, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";
import type { AccountRow, ChamaDayRow, ChamaRow, MemberRow } from "./_support/truth";
import { SAT } from "../common/chain";

type ContributionRow = {
  id: string;
  chamaId: string;
  contributor: string;
  amount: string;
  timestamp: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: number;
};
type PayoutRow = Omit<ContributionRow, "contributor"> & { recipient: string };
/** The tables as GraphQL serves them: the event tables with their ids and Ponder's column names
 * (truth.ts folds contributor and recipient into one `address` and leaves ids out). */
type Tables = {
  chamas: ChamaRow[];
  contributions: ContributionRow[];
  payouts: PayoutRow[];
  members: MemberRow[];
  accounts: AccountRow[];
  chamaDays: ChamaDayRow[];
};

/** Every column of every table, in GraphQL's shapes (bigints as decimal strings). */
const TABLES_QUERY = `{
  chamas(limit: 1000) { items { id name creator contributionAmount totalContributed totalPaidOut balance contributionCount payoutCount memberCount createdAtBlock createdAtTimestamp createdTxHash } }
  contributions(limit: 1000) { items { id chamaId contributor amount timestamp blockNumber transactionHash logIndex } }
  payouts(limit: 1000) { items { id chamaId recipient amount timestamp blockNumber transactionHash logIndex } }
  members(limit: 1000) { items { chamaId address totalContributed totalReceived contributionCount payoutCount firstContributionAt lastContributionAt } }
  accounts(limit: 1000) { items { id totalContributed totalReceived contributionCount payoutCount chamaCount } }
  chamaDays(limit: 1000) { items { chamaId day contributed paidOut contributionCount payoutCount } }
}`;

/** The primary key of a row of each table, as one string. */
const KEYS: { [T in keyof Tables]: (row: Tables[T][number]) => string } = {
  chamas: (r) => r.id,
  contributions: (r) => r.id,
  payouts: (r) => r.id,
  members: (r) => `${r.chamaId}:${r.address}`,
  accounts: (r) => r.id,
  chamaDays: (r) => `${r.chamaId}:${r.day}`,
};

/** Reads every row of every table through the indexer's GraphQL API. */
async function readTables(indexer: Indexer): Promise<Tables> {
  const result = await indexer.graphql<{ [T in keyof Tables]: { items: Tables[T] } }>(TABLES_QUERY);
  if (!result.data) throw new Error(`GraphQL read failed (${result.status}): ${JSON.stringify(result.errors)}`);
  const { data } = result;
  return {
    chamas: data.chamas.items,
    contributions: data.contributions.items,
    payouts: data.payouts.items,
    members: data.members.items,
    accounts: data.accounts.items,
    chamaDays: data.chamaDays.items,
  };
}

/** What changed between two reads, per table: the rows that are new or differ (as they are
 * now), and a `{ deleted }` entry for each row that is gone. */
type Changes = { [T in keyof Tables]: (Tables[T][number] | { deleted: string })[] };

/** The rows of `after` that are new or differ from `before`, then the keys of the rows gone. */
function diffRows<R>(before: R[], after: R[], key: (row: R) => string): (R | { deleted: string })[] {
  const old = new Map(before.map((row) => [key(row), JSON.stringify(row)]));
  const now = new Set(after.map(key));
  const written = after.filter((row) => old.get(key(row)) !== JSON.stringify(row));
  const deleted = [...old.keys()].filter((k) => !now.has(k)).map((k) => ({ deleted: k }));
  return [...written, ...deleted];
}

function changes(before: Tables, after: Tables): Changes {
  return {
    chamas: diffRows(before.chamas, after.chamas, KEYS.chamas),
    contributions: diffRows(before.contributions, after.contributions, KEYS.contributions),
    payouts: diffRows(before.payouts, after.payouts, KEYS.payouts),
    members: diffRows(before.members, after.members, KEYS.members),
    accounts: diffRows(before.accounts, after.accounts, KEYS.accounts),
    chamaDays: diffRows(before.chamaDays, after.chamaDays, KEYS.chamaDays),
  };
}

/** Ponder's `event.id` for a log: its checkpoint (block time, chain id, block number,
 * transaction index, event type 5 for logs, log index), zero-padded digits. */
function eventId(params: { timestamp: bigint; blockNumber: bigint; transactionIndex: number; logIndex: number }): string {
  const pad = (value: bigint | number, digits: number) => value.toString().padStart(digits, "0");
  const { timestamp, blockNumber, transactionIndex, logIndex } = params;
  return `${pad(timestamp, 10)}${pad(CHAIN_ID, 16)}${pad(blockNumber, 16)}${pad(transactionIndex, 16)}5${pad(logIndex, 16)}`;
}

const SECONDS_PER_DAY = 86_400n;
const dayOf = (timestamp: bigint) => Number(timestamp / SECONDS_PER_DAY);

describe.each(databases)("events on %s", (database) => {
  let chain: Chain;
  let indexer: Indexer;
  let address: Address;

  const creator = accounts[0]!;
  const saver = accounts[2]!;
  const outsider = accounts[3]!;
  const lower = (who: { address: Address }) => who.address.toLowerCase();

  const CHAMA_ID = 1n;
  const MINIMUM = 1_000n * SAT;
  const FIRST = 1_500n * SAT;
  const SECOND = 2_000n * SAT;
  const TO_SAVER = 1_200n * SAT;
  const TO_OUTSIDER = 300n * SAT;

  /** What the tests learn from the transactions they sent, for the ones after them. */
  const sent = { createdBlock: 0n, createdAt: 0n, createdTxHash: "", firstAt: 0n, secondAt: 0n };

  /** Sends a transaction once the indexer is at the head, waits until its block is indexed,
   * and returns the receipt, its block time, the decoded log of `eventName` and the changes. */
  async function sendAndIndex<E extends "ChamaCreated" | "ContributionMade" | "PayoutProcessed">(params: {
    eventName: E;
    send: () => Promise<TransactionReceipt>;
  }) {
    await indexer.waitForBlock();
    const before = await readTables(indexer);
    const receipt = await params.send();
    await indexer.waitForBlock(receipt.blockNumber);
    const after = await readTables(indexer);
    const { timestamp } = await chain.publicClient.getBlock({ blockNumber: receipt.blockNumber });
    const logs = parseEventLogs({ abi: ChamaAbi, logs: receipt.logs, eventName: params.eventName });
    expect(logs).toHaveLength(1);
    const log = logs[0]!;
    const id = eventId({ timestamp, blockNumber: receipt.blockNumber, transactionIndex: receipt.transactionIndex, logIndex: log.logIndex });
    return { receipt, timestamp, log, id, changes: changes(before, after), after };
  }

  beforeAll(async () => {
    chain = await startChain();
    const deployment = await deploy(chain);
    address = deployment.address;
    // Pin the chain's clock to 01:00 UTC of the next day, so that the contributions below share
    // one UTC day however close to midnight the suite runs, and the payouts can move to the next.
    const { timestamp } = await chain.publicClient.getBlock();
    await chain.testClient.setNextBlockTimestamp({ timestamp: (timestamp / SECONDS_PER_DAY + 1n) * SECONDS_PER_DAY + 3_600n });
    await chain.testClient.mine({ blocks: 1 });
    indexer = await startIndexer({ chain, address, startBlock: deployment.startBlock, database });
  });

  afterAll(async () => {
    await indexer?.stop();
    await chain?.stop();
  });

  describe("ChamaCreated", () => {
    test("inserts the chama with zero totals and writes no other table", async () => {
      const { receipt, timestamp, log, changes } = await sendAndIndex({
        eventName: "ChamaCreated",
        send: () => chamaAs({ chain, address, account: creator }).createChama("Harambee", MINIMUM),
      });
      expect(log.args.chamaId).toBe(CHAMA_ID);
      sent.createdBlock = receipt.blockNumber;
      sent.createdAt = timestamp;
      sent.createdTxHash = receipt.transactionHash;

      expect(changes).toEqual({
        chamas: [
          {
            id: "1",
            name: "Harambee",
            creator: lower(creator),
            contributionAmount: MINIMUM.toString(),
            totalContributed: "0",
            totalPaidOut: "0",
            balance: "0",
            contributionCount: 0,
            payoutCount: 0,
            memberCount: 0,
            createdAtBlock: receipt.blockNumber.toString(),
            createdAtTimestamp: timestamp.toString(),
            createdTxHash: receipt.transactionHash,
          },
        ],
        contributions: [],
        payouts: [],
        members: [],
        accounts: [],
        chamaDays: [],
      });
    });
  });

  describe("ContributionMade", () => {
    /** The chama row after the contributions and payouts so far. */
    const chamaRow = (totals: Pick<ChamaRow, "totalContributed" | "totalPaidOut" | "balance" | "contributionCount" | "payoutCount" | "memberCount">): ChamaRow => ({
      id: "1",
      name: "Harambee",
      creator: lower(creator),
      contributionAmount: MINIMUM.toString(),
      ...totals,
      createdAtBlock: sent.createdBlock.toString(),
      createdAtTimestamp: sent.createdAt.toString(),
      createdTxHash: sent.createdTxHash,
    });

    test("a first contribution inserts the contribution, a new member and account, and counts the member", async () => {
      const { receipt, timestamp, log, id, changes } = await sendAndIndex({
        eventName: "ContributionMade",
        send: () => chamaAs({ chain, address, account: saver }).contribute(CHAMA_ID, FIRST),
      });
      sent.firstAt = timestamp;

      expect(changes).toEqual({
        chamas: [chamaRow({ totalContributed: FIRST.toString(), totalPaidOut: "0", balance: FIRST.toString(), contributionCount: 1, payoutCount: 0, memberCount: 1 })],
        contributions: [
          {
            id,
            chamaId: "1",
            contributor: lower(saver),
            amount: FIRST.toString(),
            timestamp: timestamp.toString(),
            blockNumber: receipt.blockNumber.toString(),
            transactionHash: receipt.transactionHash,
            logIndex: log.logIndex,
          },
        ],
        payouts: [],
        members: [
          {
            chamaId: "1",
            address: lower(saver),
            totalContributed: FIRST.toString(),
            totalReceived: "0",
            contributionCount: 1,
            payoutCount: 0,
            firstContributionAt: timestamp.toString(),
            lastContributionAt: timestamp.toString(),
          },
        ],
        accounts: [{ id: lower(saver), totalContributed: FIRST.toString(), totalReceived: "0", contributionCount: 1, payoutCount: 0, chamaCount: 1 }],
        chamaDays: [{ chamaId: "1", day: dayOf(timestamp), contributed: FIRST.toString(), paidOut: "0", contributionCount: 1, payoutCount: 0 }],
      });
    });

    test("a second contribution by the same member adds to its rows and counts no new member", async () => {
      // A minute later: the member's last contribution time moves, its first stays.
      await chain.testClient.increaseTime({ seconds: 60 });
      const { receipt, timestamp, log, id, changes, after } = await sendAndIndex({
        eventName: "ContributionMade",
        send: () => chamaAs({ chain, address, account: saver }).contribute(CHAMA_ID, SECOND),
      });
      sent.secondAt = timestamp;
      expect(timestamp).toBeGreaterThan(sent.firstAt);
      expect(dayOf(timestamp)).toBe(dayOf(sent.firstAt));
      const total = (FIRST + SECOND).toString();

      expect(changes).toEqual({
        chamas: [chamaRow({ totalContributed: total, totalPaidOut: "0", balance: total, contributionCount: 2, payoutCount: 0, memberCount: 1 })],
        contributions: [
          {
            id,
            chamaId: "1",
            contributor: lower(saver),
            amount: SECOND.toString(),
            timestamp: timestamp.toString(),
            blockNumber: receipt.blockNumber.toString(),
            transactionHash: receipt.transactionHash,
            logIndex: log.logIndex,
          },
        ],
        payouts: [],
        members: [
          {
            chamaId: "1",
            address: lower(saver),
            totalContributed: total,
            totalReceived: "0",
            contributionCount: 2,
            payoutCount: 0,
            firstContributionAt: sent.firstAt.toString(),
            lastContributionAt: timestamp.toString(),
          },
        ],
        accounts: [{ id: lower(saver), totalContributed: total, totalReceived: "0", contributionCount: 2, payoutCount: 0, chamaCount: 1 }],
        chamaDays: [{ chamaId: "1", day: dayOf(timestamp), contributed: total, paidOut: "0", contributionCount: 2, payoutCount: 0 }],
      });
      // Two contribution rows, one member, one account, one day: nothing was duplicated.
      expect([after.contributions.length, after.members.length, after.accounts.length, after.chamaDays.length]).toEqual([2, 1, 1, 1]);
    });
  });

  describe("PayoutProcessed", () => {
    const contributed = FIRST + SECOND;
    const chamaRow = (totals: Pick<ChamaRow, "totalPaidOut" | "balance" | "payoutCount">): ChamaRow => ({
      id: "1",
      name: "Harambee",
      creator: lower(creator),
      contributionAmount: MINIMUM.toString(),
      totalContributed: contributed.toString(),
      ...totals,
      contributionCount: 2,
      memberCount: 1,
      createdAtBlock: sent.createdBlock.toString(),
      createdAtTimestamp: sent.createdAt.toString(),
      createdTxHash: sent.createdTxHash,
    });

    test("a payout to a contributor lowers the balance and raises its received totals, on the payout's day", async () => {
      // The next UTC day: the payout opens a new day bucket and leaves the contributions' alone.
      await chain.testClient.increaseTime({ seconds: Number(SECONDS_PER_DAY) });
      const { receipt, timestamp, log, id, changes } = await sendAndIndex({
        eventName: "PayoutProcessed",
        send: () => chamaAs({ chain, address, account: creator }).payout(CHAMA_ID, saver.address, TO_SAVER),
      });
      expect(dayOf(timestamp)).toBe(dayOf(sent.secondAt) + 1);

      expect(changes).toEqual({
        chamas: [chamaRow({ totalPaidOut: TO_SAVER.toString(), balance: (contributed - TO_SAVER).toString(), payoutCount: 1 })],
        contributions: [],
        payouts: [
          {
            id,
            chamaId: "1",
            recipient: lower(saver),
            amount: TO_SAVER.toString(),
            timestamp: timestamp.toString(),
            blockNumber: receipt.blockNumber.toString(),
            transactionHash: receipt.transactionHash,
            logIndex: log.logIndex,
          },
        ],
        members: [
          {
            chamaId: "1",
            address: lower(saver),
            totalContributed: contributed.toString(),
            totalReceived: TO_SAVER.toString(),
            contributionCount: 2,
            payoutCount: 1,
            firstContributionAt: sent.firstAt.toString(),
            lastContributionAt: sent.secondAt.toString(),
          },
        ],
        accounts: [{ id: lower(saver), totalContributed: contributed.toString(), totalReceived: TO_SAVER.toString(), contributionCount: 2, payoutCount: 1, chamaCount: 1 }],
        chamaDays: [{ chamaId: "1", day: dayOf(timestamp), contributed: "0", paidOut: TO_SAVER.toString(), contributionCount: 0, payoutCount: 1 }],
      });
      // The indexed balance is the contract's own at that block.
      const [, , , onChainContributed, onChainPaidOut] = await chain.publicClient.readContract({
        address, abi: ChamaAbi, functionName: "getChama", args: [CHAMA_ID], blockNumber: receipt.blockNumber,
      });
      expect(onChainContributed - onChainPaidOut).toBe(contributed - TO_SAVER);
    });

    test("a payout to a non-contributor creates a member without contribution dates and counts no member", async () => {
      const { receipt, timestamp, log, id, changes } = await sendAndIndex({
        eventName: "PayoutProcessed",
        send: () => chamaAs({ chain, address, account: creator }).payout(CHAMA_ID, outsider.address, TO_OUTSIDER),
      });
      const paidOut = TO_SAVER + TO_OUTSIDER;

      expect(changes).toEqual({
        chamas: [chamaRow({ totalPaidOut: paidOut.toString(), balance: (contributed - paidOut).toString(), payoutCount: 2 })],
        contributions: [],
        payouts: [
          {
            id,
            chamaId: "1",
            recipient: lower(outsider),
            amount: TO_OUTSIDER.toString(),
            timestamp: timestamp.toString(),
            blockNumber: receipt.blockNumber.toString(),
            transactionHash: receipt.transactionHash,
            logIndex: log.logIndex,
          },
        ],
        members: [
          {
            chamaId: "1",
            address: lower(outsider),
            totalContributed: "0",
            totalReceived: TO_OUTSIDER.toString(),
            contributionCount: 0,
            payoutCount: 1,
            firstContributionAt: null,
            lastContributionAt: null,
          },
        ],
        accounts: [{ id: lower(outsider), totalContributed: "0", totalReceived: TO_OUTSIDER.toString(), contributionCount: 0, payoutCount: 1, chamaCount: 0 }],
        chamaDays: [{ chamaId: "1", day: dayOf(timestamp), contributed: "0", paidOut: paidOut.toString(), contributionCount: 0, payoutCount: 2 }],
      });
    });
  });
});
