import { describe, expect, test } from "vitest";
import type { Tables } from "../test/_support/truth";
import { type BackfillResult } from "./backfill";
import { compareWithPeers, peerResult } from "./peers";
import { compareTables, countsQuery, describeDifferences, entityNaming, selectTable, snakeCaseNaming } from "./lib/tables";

const ADDRESS = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const OTHER = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const HASH = `0x${"ab".repeat(32)}`;

/** A small, consistent set of tables: one chama, one contribution, one payout. */
function tables(): Tables {
  return {
    chamas: [{
      id: "1", name: "Savers", creator: ADDRESS, contributionAmount: "1000", totalContributed: "5000", totalPaidOut: "1000", balance: "4000",
      contributionCount: 1, payoutCount: 1, memberCount: 1, createdAtBlock: "2", createdAtTimestamp: "1700000000", createdTxHash: HASH,
    }],
    contributions: [{ chamaId: "1", address: ADDRESS, amount: "5000", timestamp: "1700000012", blockNumber: "3", transactionHash: HASH, logIndex: 0 }],
    payouts: [{ chamaId: "1", address: OTHER, amount: "1000", timestamp: "1700000024", blockNumber: "4", transactionHash: HASH, logIndex: 2 }],
    members: [
      { chamaId: "1", address: ADDRESS, totalContributed: "5000", totalReceived: "0", contributionCount: 1, payoutCount: 0, firstContributionAt: "1700000012", lastContributionAt: "1700000012" },
      { chamaId: "1", address: OTHER, totalContributed: "0", totalReceived: "1000", contributionCount: 0, payoutCount: 1, firstContributionAt: null, lastContributionAt: null },
    ],
    accounts: [
      { id: ADDRESS, totalContributed: "5000", totalReceived: "0", contributionCount: 1, payoutCount: 0, chamaCount: 1 },
      { id: OTHER, totalContributed: "0", totalReceived: "1000", contributionCount: 0, payoutCount: 1, chamaCount: 0 },
    ],
    chamaDays: [{ chamaId: "1", day: 19675, contributed: "5000", paidOut: "1000", contributionCount: 1, payoutCount: 1 }],
  };
}

describe("compareTables: a peer's tables against the chain's", () => {
  test("equal tables, in any row order, have no differences", () => {
    const actual = tables();
    actual.members.reverse();
    actual.accounts.reverse();
    expect(compareTables({ expected: tables(), actual })).toEqual([]);
  });

  test("a missing row, an extra row and a changed field are each counted under their table and key", () => {
    const actual = tables();
    actual.payouts = [];
    actual.chamaDays.push({ chamaId: "1", day: 19676, contributed: "1", paidOut: "0", contributionCount: 1, payoutCount: 0 });
    actual.members[0] = { ...actual.members[0]!, totalContributed: "4999" };
    expect(compareTables({ expected: tables(), actual })).toEqual([
      { table: "payouts", missing: 1, extra: 0, mismatched: 0, examples: ["payouts 4:2: missing"] },
      { table: "members", missing: 0, extra: 0, mismatched: 1, examples: [`members 1:${ADDRESS}: totalContributed 4999, expected 5000`] },
      { table: "chamaDays", missing: 0, extra: 1, mismatched: 0, examples: ["chamaDays 1:19676: not on the chain"] },
    ]);
  });

  test("a null where the chain has a value, a number where it has a string, and a checksummed address all differ", () => {
    const actual = tables();
    actual.members[0] = { ...actual.members[0]!, firstContributionAt: null };
    actual.chamaDays[0] = { ...actual.chamaDays[0]!, contributionCount: "1" as unknown as number };
    actual.accounts[1] = { ...actual.accounts[1]!, id: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" };
    const differences = compareTables({ expected: tables(), actual });
    expect(differences.map((d) => [d.table, d.missing, d.extra, d.mismatched])).toEqual([
      ["members", 0, 0, 1],
      ["accounts", 1, 1, 0],
      ["chamaDays", 0, 0, 1],
    ]);
    expect(differences[0]!.examples[0]).toBe(`members 1:${ADDRESS}: firstContributionAt null, expected 1700000012`);
  });

  test("two rows under one key count as an extra row, and the examples are capped", () => {
    const actual = tables();
    actual.contributions.push({ ...actual.contributions[0]! });
    expect(compareTables({ expected: tables(), actual })).toEqual([
      { table: "contributions", missing: 0, extra: 1, mismatched: 0, examples: ["contributions 3:0: more than one row"] },
    ]);
    const empty = { ...tables(), accounts: [] };
    const [accounts] = compareTables({ expected: tables(), actual: empty, maxExamples: 1 });
    expect(accounts).toMatchObject({ table: "accounts", missing: 2, examples: [`accounts ${ADDRESS}: missing`] });
    expect(describeDifferences([accounts!])).toBe(`accounts: 2 missing, 0 extra, 0 different (accounts ${ADDRESS}: missing)`);
  });
});

describe("reading a peer's tables", () => {
  test("SQD and Ponder name tables and columns in snake case; decimals are read as text", () => {
    expect(selectTable(snakeCaseNaming(), "chamaDays")).toBe(
      'SELECT chama_id::text AS "chamaId", day::int AS "day", contributed::text AS "contributed", paid_out::text AS "paidOut", contribution_count::int AS "contributionCount", payout_count::int AS "payoutCount" FROM chama_day',
    );
    expect(selectTable(snakeCaseNaming("bench_1"), "payouts")).toContain('recipient::text AS "address"');
    expect(selectTable(snakeCaseNaming("bench_1"), "payouts")).toMatch(/FROM "bench_1"\.payout$/);
  });

  test("Envio names them after the entities and keeps the field names", () => {
    expect(selectTable(entityNaming(), "members")).toMatch(/^SELECT "chamaId"::text AS "chamaId", "address"::text AS "address", .* FROM "Member"$/);
    expect(selectTable(entityNaming(), "contributions")).toContain('"contributor"::text AS "address"');
    expect(countsQuery(entityNaming())).toBe(
      'SELECT (SELECT count(*) FROM "Chama")::int AS chamas, (SELECT count(*) FROM "Contribution")::int AS contributions, (SELECT count(*) FROM "Payout")::int AS payouts',
    );
  });
});

describe("peer results", () => {
  const backfill = (variant: "dense" | "sparse", database: "postgres" | "pglite", eventsPerSecond: number): BackfillResult => ({
    variant, database, events: 1000, seconds: 1000 / eventsPerSecond, eventsPerSecond, floorEventsPerSecond: 10_000, ratioToFloor: eventsPerSecond / 10_000, peakRssMiB: 700,
  });

  test("a peer's events/s and ratio to the floor come from its events and seconds", () => {
    expect(peerResult({ name: "sqd", variant: "dense", events: 51_000, seconds: 12.3456, peakRssMiB: 210.6, floorEventsPerSecond: 25_000 })).toEqual({
      name: "sqd", variant: "dense", database: "postgres", events: 51_000, seconds: 12.35, eventsPerSecond: 4131, ratioToFloor: 0.165, peakRssMiB: 211,
    });
  });

  test("the project is set against the fastest peer of each chain, on PostgreSQL only", () => {
    const peers = [
      peerResult({ name: "sqd", variant: "dense", events: 1000, seconds: 0.5, peakRssMiB: 200, floorEventsPerSecond: 10_000 }),
      peerResult({ name: "envio", variant: "dense", events: 1000, seconds: 0.25, peakRssMiB: 300, floorEventsPerSecond: 10_000 }),
      peerResult({ name: "sqd", variant: "sparse", events: 1000, seconds: 2, peakRssMiB: 200, floorEventsPerSecond: 10_000 }),
    ];
    const results = [backfill("dense", "pglite", 9_999), backfill("dense", "postgres", 1_000), backfill("sparse", "postgres", 1_000)];
    expect(compareWithPeers({ backfill: results, peers })).toEqual([
      { variant: "dense", projectEventsPerSecond: 1_000, bestPeer: "envio", bestPeerEventsPerSecond: 4_000, projectRatioToBestPeer: 0.25 },
      { variant: "sparse", projectEventsPerSecond: 1_000, bestPeer: "sqd", bestPeerEventsPerSecond: 500, projectRatioToBestPeer: 2 },
    ]);
    expect(compareWithPeers({ backfill: results, peers: [] })).toEqual([]);
  });
});
