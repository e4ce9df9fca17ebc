/**
 * The project's tables (Chama, Contribution, Payout, Member, Account, ChamaDay), built the
 * HyperIndex way: one handler per event, reading the rows it touches with `context.<Entity>.get`
 * (batched across the events of a batch by the preload phase) and writing them with `set`.
 */
import { Chama } from "generated";

const SECONDS_PER_DAY = 86_400n;

Chama.ChamaCreated.handler(async ({ event, context }) => {
  context.Chama.set({
    id: event.params.chamaId.toString(),
    name: event.params.name,
    creator: event.params.creator,
    contributionAmount: event.params.contributionAmount,
    totalContributed: 0n,
    totalPaidOut: 0n,
    balance: 0n,
    contributionCount: 0,
    payoutCount: 0,
    memberCount: 0,
    createdAtBlock: BigInt(event.block.number),
    createdAtTimestamp: BigInt(event.block.timestamp),
    createdTxHash: event.transaction.hash,
  });
});

type Movement = {
  chamaId: bigint;
  who: string;
  contributed: bigint;
  received: bigint;
  timestamp: bigint;
};

Chama.ContributionMade.handler(async ({ event, context }) => {
  const { chamaId, contributor, amount, timestamp } = event.params;
  context.Contribution.set({
    id: `${event.chainId}_${event.block.number}_${event.logIndex}`,
    chamaId,
    contributor,
    amount,
    timestamp,
    blockNumber: BigInt(event.block.number),
    transactionHash: event.transaction.hash,
    logIndex: event.logIndex,
  });
  await applyMovement(context, { chamaId, who: contributor, contributed: amount, received: 0n, timestamp });
});

Chama.PayoutProcessed.handler(async ({ event, context }) => {
  const { chamaId, recipient, amount, timestamp } = event.params;
  context.Payout.set({
    id: `${event.chainId}_${event.block.number}_${event.logIndex}`,
    chamaId,
    recipient,
    amount,
    timestamp,
    blockNumber: BigInt(event.block.number),
    transactionHash: event.transaction.hash,
    logIndex: event.logIndex,
  });
  await applyMovement(context, { chamaId, who: recipient, contributed: 0n, received: amount, timestamp });
});

type HandlerContext = Parameters<Parameters<typeof Chama.ContributionMade.handler>[0]>[0]["context"];

/** Adds a contribution or a payout to the chama, member, account and day rows it touches. */
async function applyMovement(context: HandlerContext, m: Movement) {
  const isContribution = m.contributed > 0n;
  const day = Number(m.timestamp / SECONDS_PER_DAY);
  const memberId = `${m.chamaId}-${m.who}`;
  const dayId = `${m.chamaId}-${day}`;
  const [chama, member, account, chamaDay] = await Promise.all([
    context.Chama.getOrThrow(m.chamaId.toString(), `Chama ${m.chamaId} has an event but no ChamaCreated: the start block is after its creation.`),
    context.Member.get(memberId),
    context.Account.get(m.who),
    context.ChamaDay.get(dayId),
  ]);
  // An address's first contribution to a chama makes it a member of it.
  const newMember = isContribution && (member?.contributionCount ?? 0) === 0 ? 1 : 0;

  context.Member.set({
    id: memberId,
    chamaId: m.chamaId,
    address: m.who,
    totalContributed: (member?.totalContributed ?? 0n) + m.contributed,
    totalReceived: (member?.totalReceived ?? 0n) + m.received,
    contributionCount: (member?.contributionCount ?? 0) + (isContribution ? 1 : 0),
    payoutCount: (member?.payoutCount ?? 0) + (isContribution ? 0 : 1),
    firstContributionAt: member?.firstContributionAt ?? (isContribution ? m.timestamp : undefined),
    lastContributionAt: isContribution ? m.timestamp : member?.lastContributionAt,
  });
  context.Chama.set({
    ...chama,
    totalContributed: chama.totalContributed + m.contributed,
    totalPaidOut: chama.totalPaidOut + m.received,
    balance: chama.balance + m.contributed - m.received,
    contributionCount: chama.contributionCount + (isContribution ? 1 : 0),
    payoutCount: chama.payoutCount + (isContribution ? 0 : 1),
    memberCount: chama.memberCount + newMember,
  });
  context.Account.set({
    id: m.who,
    totalContributed: (account?.totalContributed ?? 0n) + m.contributed,
    totalReceived: (account?.totalReceived ?? 0n) + m.received,
    contributionCount: (account?.contributionCount ?? 0) + (isContribution ? 1 : 0),
    payoutCount: (account?.payoutCount ?? 0) + (isContribution ? 0 : 1),
    chamaCount: (account?.chamaCount ?? 0) + newMember,
  });
  context.ChamaDay.set({
    id: dayId,
    chamaId: m.chamaId,
    day,
    contributed: (chamaDay?.contributed ?? 0n) + m.contributed,
    paidOut: (chamaDay?.paidOut ?? 0n) + m.received,
    contributionCount: (chamaDay?.contributionCount ?? 0) + (isContribution ? 1 : 0),
    payoutCount: (chamaDay?.payoutCount ?? 0) + (isContribution ? 0 : 1),
  });
}
