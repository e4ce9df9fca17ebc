/**
 * Handlers for the Chama contract's three events, and the tables each one writes
 * (test/events.test.ts asserts these rows, event by event):
 *
 * - `ChamaCreated`: inserts `chama` (zero totals and counts).
 * - `ContributionMade`: inserts `contribution`; upserts `member` (chama, contributor),
 *   `account` (contributor) and `chama_day` (chama, UTC day); updates `chama`'s totals, and
 *   its member count on an address's first contribution to it.
 * - `PayoutProcessed`: inserts `payout`; upserts `member` (chama, recipient), `account`
 *   (recipient) and `chama_day`; updates `chama`'s totals (member count unchanged).
 */
import { type Context, ponder } from "ponder:registry";
import { account, chama, chamaDay, contribution, member, payout } from "ponder:schema";

type Db = Context<"Chama:ContributionMade">["db"];

/** What one event adds to a derived row. Each helper below applies it on both the insert and
 * the conflict path, so the two can never drift apart. */
type Delta = {
  contributed: bigint;
  received: bigint;
  contributions: number;
  payouts: number;
};

const SECONDS_PER_DAY = 86_400n;

ponder.on("Chama:ChamaCreated", async ({ event, context }) => {
  await context.db.insert(chama).values({
    id: event.args.chamaId,
    name: event.args.name,
    creator: event.args.creator,
    contributionAmount: event.args.contributionAmount,
    totalContributed: 0n,
    totalPaidOut: 0n,
    balance: 0n,
    contributionCount: 0,
    payoutCount: 0,
    memberCount: 0,
    createdAtBlock: event.block.number,
    createdAtTimestamp: event.block.timestamp,
    createdTxHash: event.transaction.hash,
  });
});

ponder.on("Chama:ContributionMade", async ({ event, context }) => {
  const { chamaId, contributor, amount, timestamp } = event.args;
  const delta: Delta = { contributed: amount, received: 0n, contributions: 1, payouts: 0 };

  await context.db.insert(contribution).values({
    id: event.id,
    chamaId,
    contributor,
    amount,
    timestamp,
    blockNumber: event.block.number,
    transactionHash: event.transaction.hash,
    logIndex: event.log.logIndex,
  });

  const row = await upsertMember({ db: context.db, chamaId, address: contributor, delta, contributedAt: timestamp });
  // The upsert returns the row as written: a count of 1 means this is the address's first
  // contribution to this chama, so it is a new distinct member of the chama and a new chama
  // for the account. No read-before-write needed.
  const newMembers = row.contributionCount === 1 ? 1 : 0;

  await updateChama({ db: context.db, chamaId, delta, newMembers });
  await upsertAccount({ db: context.db, address: contributor, delta, newChamas: newMembers });
  await upsertChamaDay({ db: context.db, chamaId, timestamp, delta });
});

ponder.on("Chama:PayoutProcessed", async ({ event, context }) => {
  const { chamaId, recipient, amount, timestamp } = event.args;
  const delta: Delta = { contributed: 0n, received: amount, contributions: 0, payouts: 1 };

  await context.db.insert(payout).values({
    id: event.id,
    chamaId,
    recipient,
    amount,
    timestamp,
    blockNumber: event.block.number,
    transactionHash: event.transaction.hash,
    logIndex: event.log.logIndex,
  });

  await upsertMember({ db: context.db, chamaId, address: recipient, delta });
  await updateChama({ db: context.db, chamaId, delta, newMembers: 0 });
  await upsertAccount({ db: context.db, address: recipient, delta, newChamas: 0 });
  await upsertChamaDay({ db: context.db, chamaId, timestamp, delta });
});

/** Applies a delta to a chama's running totals. The chama row always exists: the contract
 * rejects contributions and payouts for unknown ids. */
async function updateChama(params: { db: Db; chamaId: bigint; delta: Delta; newMembers: number }) {
  const { db, chamaId, delta, newMembers } = params;
  await db.update(chama, { id: chamaId }).set((row) => ({
    totalContributed: row.totalContributed + delta.contributed,
    totalPaidOut: row.totalPaidOut + delta.received,
    balance: row.balance + delta.contributed - delta.received,
    contributionCount: row.contributionCount + delta.contributions,
    payoutCount: row.payoutCount + delta.payouts,
    memberCount: row.memberCount + newMembers,
  }));
}

/** Applies a delta to a (chama, address) member row, creating it on first sight.
 * `contributedAt` is the block time of a contribution; payouts leave the dates alone. */
async function upsertMember(params: {
  db: Db;
  chamaId: bigint;
  address: `0x${string}`;
  delta: Delta;
  contributedAt?: bigint;
}) {
  const { db, chamaId, address, delta, contributedAt } = params;
  return db
    .insert(member)
    .values({
      chamaId,
      address,
      totalContributed: delta.contributed,
      totalReceived: delta.received,
      contributionCount: delta.contributions,
      payoutCount: delta.payouts,
      firstContributionAt: contributedAt ?? null,
      lastContributionAt: contributedAt ?? null,
    })
    .onConflictDoUpdate((row) => ({
      totalContributed: row.totalContributed + delta.contributed,
      totalReceived: row.totalReceived + delta.received,
      contributionCount: row.contributionCount + delta.contributions,
      payoutCount: row.payoutCount + delta.payouts,
      firstContributionAt: row.firstContributionAt ?? contributedAt ?? null,
      lastContributionAt: contributedAt ?? row.lastContributionAt,
    }));
}

/** Applies a delta to an address's totals across all chamas. */
async function upsertAccount(params: { db: Db; address: `0x${string}`; delta: Delta; newChamas: number }) {
  const { db, address, delta, newChamas } = params;
  await db
    .insert(account)
    .values({
      id: address,
      totalContributed: delta.contributed,
      totalReceived: delta.received,
      contributionCount: delta.contributions,
      payoutCount: delta.payouts,
      chamaCount: newChamas,
    })
    .onConflictDoUpdate((row) => ({
      totalContributed: row.totalContributed + delta.contributed,
      totalReceived: row.totalReceived + delta.received,
      contributionCount: row.contributionCount + delta.contributions,
      payoutCount: row.payoutCount + delta.payouts,
      chamaCount: row.chamaCount + newChamas,
    }));
}

/** Applies a delta to a chama's bucket for the UTC day of `timestamp`. */
async function upsertChamaDay(params: { db: Db; chamaId: bigint; timestamp: bigint; delta: Delta }) {
  const { db, chamaId, timestamp, delta } = params;
  await db
    .insert(chamaDay)
    .values({
      chamaId,
      day: Number(timestamp / SECONDS_PER_DAY),
      contributed: delta.contributed,
      paidOut: delta.received,
      contributionCount: delta.contributions,
      payoutCount: delta.payouts,
    })
    .onConflictDoUpdate((row) => ({
      contributed: row.contributed + delta.contributed,
      paidOut: row.paidOut + delta.received,
      contributionCount: row.contributionCount + delta.contributions,
      payoutCount: row.payoutCount + delta.payouts,
    }));
}
