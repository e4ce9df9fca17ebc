/**
 * The reconciler's comparisons, table by table: each table's chain side and index side as Values
 * under one key (the keys `Discrepancy.key` documents), compared with compareKeyed. No I/O: the
 * reads are read-chain.ts's and read-index.ts's.
 */
import type { Address } from "viem";
import type { Discrepancy, Values } from "../common/ops-api";
import { compareKeyed } from "./compare";
import type { ChainChama, ChainLog, ChainMember } from "./read-chain";
import type { IndexSnapshot, IndexedChama, IndexedEvent, IndexedMember } from "./read-index";

type Report = (discrepancy: Discrepancy) => void;
type CompareParameters = { index: IndexSnapshot; report: Report };

const str = (v: bigint) => v.toString();

/** A member's key, `chamaId:address`, on both sides. */
const memberKey = (m: { chamaId: bigint; address: string }) => `${m.chamaId}:${m.address}`;

/** What the logs up to B say each chama and each member (by key) should count. */
export type LogCounts = {
  chamas: Map<bigint, { contributions: number; payouts: number; contributors: Set<string> }>;
  members: Map<string, { chamaId: bigint; address: string; contributions: number; payouts: number }>;
};

/** Folds the logs into per-chama and per-member counts. */
export function countLogs(logs: ChainLog[]): LogCounts {
  const counts: LogCounts = { chamas: new Map(), members: new Map() };
  for (const log of logs) {
    const c = counts.chamas.get(log.chamaId) ?? { contributions: 0, payouts: 0, contributors: new Set<string>() };
    const key = memberKey(log);
    const m = counts.members.get(key) ?? { chamaId: log.chamaId, address: log.address, contributions: 0, payouts: 0 };
    if (log.kind === "contribution") {
      c.contributions += 1;
      c.contributors.add(log.address);
      m.contributions += 1;
    } else {
      c.payouts += 1;
      m.payouts += 1;
    }
    counts.chamas.set(log.chamaId, c);
    counts.members.set(key, m);
  }
  return counts;
}

function eventValues(row: IndexedEvent): Values {
  return { chamaId: str(row.chamaId), address: row.address, amount: str(row.amount), timestamp: str(row.timestamp), blockNumber: str(row.blockNumber) };
}

/** Contribution and payout rows against the logs, keyed `transactionHash:logIndex`. */
export function compareEvents(params: CompareParameters & { logs: ChainLog[] }): void {
  for (const kind of ["contribution", "payout"] as const) {
    compareKeyed({
      table: kind,
      chain: params.logs
        .filter((l) => l.kind === kind)
        .map((log) => [
          `${log.transactionHash.toLowerCase()}:${log.logIndex}`,
          { chamaId: str(log.chamaId), address: log.address, amount: str(log.amount), timestamp: str(log.timestamp), blockNumber: str(log.blockNumber) },
        ] as const),
      db: kind === "contribution" ? params.index.contributions : params.index.payouts,
      keyOf: (row) => `${row.transactionHash}:${row.logIndex}`,
      valuesOf: eventValues,
      report: params.report,
    });
  }
}

function chamaValues(row: IndexedChama): Values {
  return {
    name: row.name,
    creator: row.creator,
    contributionAmount: str(row.contributionAmount),
    totalContributed: str(row.totalContributed),
    totalPaidOut: str(row.totalPaidOut),
    balance: str(row.balance),
    contributionCount: row.contributionCount,
    payoutCount: row.payoutCount,
    memberCount: row.memberCount,
  };
}

/** Chama rows against `getChama` at B and the logs' counts, keyed by chama id. */
export function compareChamas(params: CompareParameters & { chamas: ChainChama[]; counts: LogCounts }): void {
  const chain = params.chamas.map((chama): [string, Values] => {
    const counts = params.counts.chamas.get(chama.id);
    return [str(chama.id), {
      name: chama.name,
      creator: chama.creator.toLowerCase(),
      contributionAmount: str(chama.contributionAmount),
      totalContributed: str(chama.totalContributed),
      totalPaidOut: str(chama.totalPaidOut),
      balance: str(chama.totalContributed - chama.totalPaidOut),
      contributionCount: counts?.contributions ?? 0,
      payoutCount: counts?.payouts ?? 0,
      memberCount: counts?.contributors.size ?? 0,
    }];
  });
  compareKeyed({ table: "chama", chain, db: params.index.chamas, keyOf: (row) => str(row.id), valuesOf: chamaValues, report: params.report });
}

/** The members to ask the chain about: every (chama, address) with logs or with an index row,
 * each once, logs first. */
export function membersToRead(params: { counts: LogCounts; index: IndexSnapshot }): { chamaId: bigint; address: string }[] {
  const members = new Map<string, { chamaId: bigint; address: string }>();
  for (const m of [...params.counts.members.values(), ...params.index.members]) {
    const key = memberKey(m);
    if (!members.has(key)) members.set(key, { chamaId: m.chamaId, address: m.address });
  }
  return [...members.values()];
}

function memberValues(row: IndexedMember): Values {
  return {
    totalContributed: str(row.totalContributed),
    totalReceived: str(row.totalReceived),
    contributionCount: row.contributionCount,
    payoutCount: row.payoutCount,
  };
}

/** Member rows against `contributedBy` / `receivedBy` at B and the logs' counts, keyed
 * `chamaId:address`. The views answer for every member asked about; a member is on the chain's
 * side only if it has logs, and an extra row is reported with what the views say about it. */
export function compareMembers(params: CompareParameters & { members: ChainMember[]; counts: LogCounts }): void {
  const viewValues = new Map(
    params.members.map((member): [string, Values] => {
      const key = memberKey(member);
      const counts = params.counts.members.get(key);
      return [key, { totalContributed: str(member.contributed), totalReceived: str(member.received), contributionCount: counts?.contributions ?? 0, payoutCount: counts?.payouts ?? 0 }];
    }),
  );
  compareKeyed({
    table: "member",
    chain: [...viewValues].filter(([key]) => params.counts.members.has(key)),
    db: params.index.members,
    keyOf: memberKey,
    valuesOf: memberValues,
    chainOfExtra: (key) => viewValues.get(key) ?? null,
    report: params.report,
  });
}

/** The contract's native balance at B against the sum of the indexed chama balances. */
export function compareBalance(params: CompareParameters & { address: Address; balance: bigint }): void {
  const indexedBalance = params.index.chamas.reduce((sum, c) => sum + c.balance, 0n);
  if (params.balance === indexedBalance) return;
  params.report({
    kind: "value_mismatch",
    table: "contract",
    key: params.address.toLowerCase(),
    fields: ["balance"],
    db: { balance: str(indexedBalance) },
    chain: { balance: str(params.balance) },
  });
}
