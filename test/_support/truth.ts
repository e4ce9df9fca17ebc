/**
 * Ground truth for the index, computed independently of the handlers: the canonical logs from
 * `eth_getLogs` folded into the expected tables, plus the contract's own views at a block.
 * Rows use GraphQL's shapes (bigints as decimal strings, addresses lowercase) so the two compare
 * directly.
 */
import type { Address } from "viem";
import { ChamaAbi } from "../../abis/ChamaAbi";
import type { Chain } from "./chain";
import type { Indexer } from "./indexer";

export type ChamaRow = {
  id: string;
  name: string;
  creator: string;
  contributionAmount: string;
  totalContributed: string;
  totalPaidOut: string;
  balance: string;
  contributionCount: number;
  payoutCount: number;
  memberCount: number;
  createdAtBlock: string;
  createdAtTimestamp: string;
  createdTxHash: string;
};
export type EventRow = {
  chamaId: string;
  address: string;
  amount: string;
  timestamp: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: number;
};
export type MemberRow = {
  chamaId: string;
  address: string;
  totalContributed: string;
  totalReceived: string;
  contributionCount: number;
  payoutCount: number;
  firstContributionAt: string | null;
  lastContributionAt: string | null;
};
export type AccountRow = {
  id: string;
  totalContributed: string;
  totalReceived: string;
  contributionCount: number;
  payoutCount: number;
  chamaCount: number;
};
export type ChamaDayRow = {
  chamaId: string;
  day: number;
  contributed: string;
  paidOut: string;
  contributionCount: number;
  payoutCount: number;
};
export type Tables = {
  chamas: ChamaRow[];
  contributions: EventRow[];
  payouts: EventRow[];
  members: MemberRow[];
  accounts: AccountRow[];
  chamaDays: ChamaDayRow[];
};

const byKey = <T>(key: (row: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
const pad = (n: string | number) => String(n).padStart(20, "0");
const sortTables = (t: Tables): Tables => ({
  chamas: [...t.chamas].sort(byKey((r) => pad(r.id))),
  contributions: [...t.contributions].sort(byKey((r) => `${pad(r.blockNumber)}:${pad(r.logIndex)}`)),
  payouts: [...t.payouts].sort(byKey((r) => `${pad(r.blockNumber)}:${pad(r.logIndex)}`)),
  members: [...t.members].sort(byKey((r) => `${pad(r.chamaId)}:${r.address}`)),
  accounts: [...t.accounts].sort(byKey((r) => r.id)),
  chamaDays: [...t.chamaDays].sort(byKey((r) => `${pad(r.chamaId)}:${pad(r.day)}`)),
});

/** Folds the canonical logs up to `toBlock` into the tables the index should hold. */
export async function expectedTables(params: { chain: Pick<Chain, "publicClient">; address: Address; fromBlock: bigint; toBlock: bigint }): Promise<Tables> {
  const { chain, address, fromBlock, toBlock } = params;
  const logs = await chain.publicClient.getContractEvents({ address, abi: ChamaAbi, fromBlock, toBlock });
  logs.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));

  const blockTimes = new Map<bigint, bigint>();
  for (const log of logs.filter((l) => l.eventName === "ChamaCreated")) {
    if (!blockTimes.has(log.blockNumber)) {
      blockTimes.set(log.blockNumber, (await chain.publicClient.getBlock({ blockNumber: log.blockNumber })).timestamp);
    }
  }

  type Totals = { contributed: bigint; received: bigint; contributions: number; payouts: number };
  const chamas = new Map<bigint, ChamaRow & { members: Set<string> }>();
  const members = new Map<string, Totals & { chamaId: bigint; address: string; first: bigint | null; last: bigint | null }>();
  const accounts = new Map<string, Totals & { chamas: Set<bigint> }>();
  const days = new Map<string, Totals & { chamaId: bigint; day: number }>();
  const contributions: EventRow[] = [];
  const payouts: EventRow[] = [];

  const add = (chamaId: bigint, who: string, timestamp: bigint, contributed: bigint, received: bigint) => {
    const isContribution = contributed > 0n;
    const m = members.get(`${chamaId}:${who}`) ?? { chamaId, address: who, contributed: 0n, received: 0n, contributions: 0, payouts: 0, first: null, last: null };
    m.contributed += contributed;
    m.received += received;
    if (isContribution) {
      m.contributions += 1;
      m.first ??= timestamp;
      m.last = timestamp;
    } else m.payouts += 1;
    members.set(`${chamaId}:${who}`, m);

    const a = accounts.get(who) ?? { contributed: 0n, received: 0n, contributions: 0, payouts: 0, chamas: new Set<bigint>() };
    a.contributed += contributed;
    a.received += received;
    if (isContribution) {
      a.contributions += 1;
      a.chamas.add(chamaId);
    } else a.payouts += 1;
    accounts.set(who, a);

    const day = Number(timestamp / 86_400n);
    const d = days.get(`${chamaId}:${day}`) ?? { chamaId, day, contributed: 0n, received: 0n, contributions: 0, payouts: 0 };
    d.contributed += contributed;
    d.received += received;
    if (isContribution) d.contributions += 1;
    else d.payouts += 1;
    days.set(`${chamaId}:${day}`, d);

    const c = chamas.get(chamaId);
    if (!c) throw new Error(`log for unknown chama ${chamaId}`);
    c.totalContributed = (BigInt(c.totalContributed) + contributed).toString();
    c.totalPaidOut = (BigInt(c.totalPaidOut) + received).toString();
    c.balance = (BigInt(c.totalContributed) - BigInt(c.totalPaidOut)).toString();
    if (isContribution) {
      c.contributionCount += 1;
      c.members.add(who);
      c.memberCount = c.members.size;
    } else c.payoutCount += 1;
  };

  for (const log of logs) {
    if (log.eventName === "ChamaCreated") {
      const { chamaId, creator, name, contributionAmount } = log.args;
      chamas.set(chamaId!, {
        id: chamaId!.toString(),
        name: name!,
        creator: creator!.toLowerCase(),
        contributionAmount: contributionAmount!.toString(),
        totalContributed: "0",
        totalPaidOut: "0",
        balance: "0",
        contributionCount: 0,
        payoutCount: 0,
        memberCount: 0,
        createdAtBlock: log.blockNumber.toString(),
        createdAtTimestamp: blockTimes.get(log.blockNumber)!.toString(),
        createdTxHash: log.transactionHash,
        members: new Set(),
      });
    } else {
      const { chamaId, amount, timestamp } = log.args;
      const who = (log.eventName === "ContributionMade" ? log.args.contributor : log.args.recipient)!.toLowerCase();
      const row: EventRow = {
        chamaId: chamaId!.toString(),
        address: who,
        amount: amount!.toString(),
        timestamp: timestamp!.toString(),
        blockNumber: log.blockNumber.toString(),
        transactionHash: log.transactionHash,
        logIndex: log.logIndex,
      };
      if (log.eventName === "ContributionMade") {
        contributions.push(row);
        add(chamaId!, who, timestamp!, amount!, 0n);
      } else {
        payouts.push(row);
        add(chamaId!, who, timestamp!, 0n, amount!);
      }
    }
  }

  return sortTables({
    chamas: [...chamas.values()].map(({ members: _, ...row }) => row),
    contributions,
    payouts,
    members: [...members.values()].map((m) => ({
      chamaId: m.chamaId.toString(),
      address: m.address,
      totalContributed: m.contributed.toString(),
      totalReceived: m.received.toString(),
      contributionCount: m.contributions,
      payoutCount: m.payouts,
      firstContributionAt: m.first?.toString() ?? null,
      lastContributionAt: m.last?.toString() ?? null,
    })),
    accounts: [...accounts.entries()].map(([id, a]) => ({
      id,
      totalContributed: a.contributed.toString(),
      totalReceived: a.received.toString(),
      contributionCount: a.contributions,
      payoutCount: a.payouts,
      chamaCount: a.chamas.size,
    })),
    chamaDays: [...days.values()].map((d) => ({
      chamaId: d.chamaId.toString(),
      day: d.day,
      contributed: d.contributed.toString(),
      paidOut: d.received.toString(),
      contributionCount: d.contributions,
      payoutCount: d.payouts,
    })),
  });
}

const FIELDS = {
  chamas: "id name creator contributionAmount totalContributed totalPaidOut balance contributionCount payoutCount memberCount createdAtBlock createdAtTimestamp createdTxHash",
  contributions: "chamaId address: contributor amount timestamp blockNumber transactionHash logIndex",
  payouts: "chamaId address: recipient amount timestamp blockNumber transactionHash logIndex",
  members: "chamaId address totalContributed totalReceived contributionCount payoutCount firstContributionAt lastContributionAt",
  accounts: "id totalContributed totalReceived contributionCount payoutCount chamaCount",
  chamaDays: "chamaId day contributed paidOut contributionCount payoutCount",
} as const;

/** Reads every row of every table through GraphQL, following the cursors. */
export async function indexedTables(indexer: Indexer): Promise<Tables> {
  const out: Record<string, unknown[]> = {};
  for (const [table, fields] of Object.entries(FIELDS)) {
    const rows: unknown[] = [];
    let after: string | null = null;
    for (;;) {
      const result: Awaited<ReturnType<typeof indexer.graphql<Record<string, { items: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>>>> =
        await indexer.graphql(`query ($after: String) { ${table}(limit: 1000, after: $after) { items { ${fields} } pageInfo { hasNextPage endCursor } } }`, { after });
      const page = result.data?.[table];
      if (!page) throw new Error(`GraphQL ${table} failed: ${JSON.stringify(result.errors)}`);
      rows.push(...page.items);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    out[table] = rows;
  }
  return sortTables(out as Tables);
}

/** Compares indexed totals with the contract's views at `blockNumber`; returns the mismatches
 * (empty when everything agrees). */
export async function viewMismatches(params: { chain: Chain; address: Address; blockNumber: bigint; tables: Tables }): Promise<string[]> {
  const { chain, address, blockNumber, tables } = params;
  const mismatches: string[] = [];
  const count = await chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "chamaCount", blockNumber });
  if (count !== BigInt(tables.chamas.length)) mismatches.push(`chamaCount ${count} vs ${tables.chamas.length} rows`);
  for (const row of tables.chamas) {
    const [creator, name, minimum, contributed, paidOut] = await chain.publicClient.readContract({
      address, abi: ChamaAbi, functionName: "getChama", args: [BigInt(row.id)], blockNumber,
    });
    const view = { creator: creator.toLowerCase(), name, contributionAmount: minimum.toString(), totalContributed: contributed.toString(), totalPaidOut: paidOut.toString(), balance: (contributed - paidOut).toString() };
    for (const [key, value] of Object.entries(view)) {
      if (row[key as keyof ChamaRow] !== value) mismatches.push(`chama ${row.id} ${key}: index ${row[key as keyof ChamaRow]} vs chain ${value}`);
    }
  }
  for (const row of tables.members) {
    const args = [BigInt(row.chamaId), row.address as Address] as const;
    const [contributed, received] = await Promise.all([
      chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "contributedBy", args, blockNumber }),
      chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "receivedBy", args, blockNumber }),
    ]);
    if (contributed.toString() !== row.totalContributed) mismatches.push(`member ${row.chamaId}/${row.address} contributed: index ${row.totalContributed} vs chain ${contributed}`);
    if (received.toString() !== row.totalReceived) mismatches.push(`member ${row.chamaId}/${row.address} received: index ${row.totalReceived} vs chain ${received}`);
  }
  const balance = await chain.publicClient.getBalance({ address, blockNumber });
  const indexedBalance = tables.chamas.reduce((sum, c) => sum + BigInt(c.balance), 0n);
  if (balance !== indexedBalance) mismatches.push(`contract balance ${balance} vs sum of chama balances ${indexedBalance}`);
  return mismatches;
}
