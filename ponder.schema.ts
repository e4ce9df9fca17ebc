import { index, onchainTable, primaryKey, relations } from "ponder";

/** One row per chama, keyed by its on-chain id. Running totals mirror `Chama.getChama`. */
export const chama = onchainTable(
  "chama",
  (t) => ({
    id: t.bigint().primaryKey(),
    name: t.text().notNull(),
    creator: t.hex().notNull(),
    contributionAmount: t.bigint().notNull(),
    totalContributed: t.bigint().notNull(),
    totalPaidOut: t.bigint().notNull(),
    balance: t.bigint().notNull(),
    contributionCount: t.integer().notNull(),
    payoutCount: t.integer().notNull(),
    /** Distinct contributors (payout-only recipients are not counted). */
    memberCount: t.integer().notNull(),
    createdAtBlock: t.bigint().notNull(),
    /** Block timestamp, seconds since the epoch. */
    createdAtTimestamp: t.bigint().notNull(),
    createdTxHash: t.hex().notNull(),
  }),
  (table) => ({
    creatorIdx: index().on(table.creator),
    createdAtBlockIdx: index().on(table.createdAtBlock),
  }),
);

/** Raw `ContributionMade` events, one row per log. */
export const contribution = onchainTable(
  "contribution",
  (t) => ({
    id: t.text().primaryKey(),
    chamaId: t.bigint().notNull(),
    contributor: t.hex().notNull(),
    amount: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    blockNumber: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
    logIndex: t.integer().notNull(),
  }),
  (table) => ({
    chamaIdx: index().on(table.chamaId, table.blockNumber),
    contributorIdx: index().on(table.contributor, table.blockNumber),
    transactionHashIdx: index().on(table.transactionHash),
    blockNumberIdx: index().on(table.blockNumber),
  }),
);

/** Raw `PayoutProcessed` events, one row per log. */
export const payout = onchainTable(
  "payout",
  (t) => ({
    id: t.text().primaryKey(),
    chamaId: t.bigint().notNull(),
    recipient: t.hex().notNull(),
    amount: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    blockNumber: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
    logIndex: t.integer().notNull(),
  }),
  (table) => ({
    chamaIdx: index().on(table.chamaId, table.blockNumber),
    recipientIdx: index().on(table.recipient, table.blockNumber),
    transactionHashIdx: index().on(table.transactionHash),
    blockNumberIdx: index().on(table.blockNumber),
  }),
);

/** Per chama and address: contributors and payout recipients. Totals mirror
 * `Chama.contributedBy` / `Chama.receivedBy`. */
export const member = onchainTable(
  "member",
  (t) => ({
    chamaId: t.bigint().notNull(),
    address: t.hex().notNull(),
    totalContributed: t.bigint().notNull(),
    totalReceived: t.bigint().notNull(),
    contributionCount: t.integer().notNull(),
    payoutCount: t.integer().notNull(),
    /** Block timestamp of the first contribution; null for a member who has only received. */
    firstContributionAt: t.bigint(),
    /** Block timestamp of the latest contribution; null for a member who has only received. */
    lastContributionAt: t.bigint(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.chamaId, table.address] }),
    addressIdx: index().on(table.address),
  }),
);

/** Per address, across all chamas. */
export const account = onchainTable("account", (t) => ({
  id: t.hex().primaryKey(),
  totalContributed: t.bigint().notNull(),
  totalReceived: t.bigint().notNull(),
  contributionCount: t.integer().notNull(),
  payoutCount: t.integer().notNull(),
  /** Distinct chamas this address has contributed to. */
  chamaCount: t.integer().notNull(),
}));

/** Per chama and UTC day (days since the epoch). */
export const chamaDay = onchainTable(
  "chama_day",
  (t) => ({
    chamaId: t.bigint().notNull(),
    day: t.integer().notNull(),
    contributed: t.bigint().notNull(),
    paidOut: t.bigint().notNull(),
    contributionCount: t.integer().notNull(),
    payoutCount: t.integer().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.chamaId, table.day] }),
    dayIdx: index().on(table.day),
  }),
);

export const chamaRelations = relations(chama, ({ many }) => ({
  contributions: many(contribution),
  payouts: many(payout),
  members: many(member),
  days: many(chamaDay),
}));

export const contributionRelations = relations(contribution, ({ one }) => ({
  chama: one(chama, { fields: [contribution.chamaId], references: [chama.id] }),
  account: one(account, { fields: [contribution.contributor], references: [account.id] }),
}));

export const payoutRelations = relations(payout, ({ one }) => ({
  chama: one(chama, { fields: [payout.chamaId], references: [chama.id] }),
  account: one(account, { fields: [payout.recipient], references: [account.id] }),
}));

export const memberRelations = relations(member, ({ one }) => ({
  chama: one(chama, { fields: [member.chamaId], references: [chama.id] }),
  account: one(account, { fields: [member.address], references: [account.id] }),
}));

export const accountRelations = relations(account, ({ many }) => ({
  contributions: many(contribution),
  payouts: many(payout),
  memberships: many(member),
}));

export const chamaDayRelations = relations(chamaDay, ({ one }) => ({
  chama: one(chama, { fields: [chamaDay.chamaId], references: [chama.id] }),
}));
