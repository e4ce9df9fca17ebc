/**
 * The reconciler: compares the index with the chain at one block B, the indexer's checkpoint.
 * The chain wins: every difference is reported as `missing_in_db`, `extra_in_db` or
 * `value_mismatch`, with the rows on both sides.
 *
 * - every chama row with `getChama` at B, and its counts with the logs up to B;
 * - every member row with `contributedBy` / `receivedBy` at B, and its counts with the logs;
 * - the contract's native balance at B with the sum of the indexed chama balances;
 * - every contribution and payout row with `eth_getLogs` up to B.
 *
 * The tables are read page by page inside one read-only snapshot (so B and the rows agree while
 * the indexer keeps writing); contract reads go out as JSON-RPC batches.
 */
import { type Address, type Hex, createPublicClient, getAddress, http } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import type { Env, OpsEnv } from "../config/env";

export type Row = Record<string, unknown>;
/** Runs one SQL statement and returns its rows. The reconciler inlines only values it has
 * validated (decimal ids, hex addresses), so no parameters are needed. */
export type Query = (text: string) => Promise<Row[]>;
/** Runs `fn` against one consistent, read-only snapshot of the database. */
export type Snapshot = <T>(fn: (query: Query) => Promise<T>) => Promise<T>;

export type { Discrepancy, DiscrepancyKind, DiscrepancyTable, ReconcileReport, Values } from "../common/ops-api";
import { decodeCheckpoint } from "../common/checkpoint";
import { compareKeyed } from "./compare";
import type { Discrepancy, ReconcileReport, Values } from "../common/ops-api";

export class ReconcileError extends Error {
  override name = "ReconcileError";
}

export type ReconcileParameters = {
  snapshot: Snapshot;
  /** Schema the index lives in (tables are read as "schema"."table"). */
  schema: string;
  rpcUrl: string;
  chainId: number;
  address: Address;
  startBlock: number;
  pageSize?: number;
  batchSize?: number;
  logRange?: number;
  maxDiscrepancies?: number;
  rpcTimeoutMs?: number;
};

/** Everything but the snapshot and schema, from the configuration: the chain and contract the
 * indexer uses, the RPC the reconciler trusts (RECONCILE_RPC_URL, else the indexer's) and the
 * RECONCILE_* sizes. */
export function reconcileSettings(env: Env, ops: OpsEnv): Omit<ReconcileParameters, "snapshot" | "schema"> {
  return {
    rpcUrl: ops.reconcileRpcUrl ?? env.rpcUrl,
    chainId: env.chainId,
    address: env.chamaAddress,
    startBlock: env.startBlock,
    pageSize: ops.reconcilePageSize,
    batchSize: ops.reconcileBatchSize,
    logRange: ops.reconcileLogRange,
  };
}

const DECIMAL = /^\d+$/;
const HEX = /^0x[0-9a-fA-F]*$/;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (value === null || value === undefined) throw new ReconcileError(`column ${column} is null`);
  return String(value);
}

/** A viem client whose calls go out as JSON-RPC batches, counting calls and HTTP requests. */
export function countingClient(params: { rpcUrl: string; batchSize: number; timeoutMs: number }) {
  const stats = { calls: 0, httpRequests: 0 };
  const client = createPublicClient({
    transport: http(params.rpcUrl, {
      batch: { batchSize: params.batchSize },
      timeout: params.timeoutMs,
      retryCount: 2,
      onFetchRequest: (_request, init) => {
        stats.httpRequests += 1;
        const body: unknown = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
        stats.calls += Array.isArray(body) ? body.length : 1;
      },
    }),
  });
  return { client, stats };
}

/** The block number and timestamp of the indexer's checkpoint for `chainId`, from
 * `_ponder_checkpoint` (Ponder's own bookkeeping). */
export async function readCheckpoint(params: { query: Query; schema: string; chainId: number }) {
  const rows = await params.query(
    `SELECT chain_id::text AS chain_id, latest_checkpoint FROM ${quoteIdent(params.schema)}."_ponder_checkpoint"`,
  );
  const row = rows.find((r) => text(r, "chain_id") === String(params.chainId));
  if (!row) return undefined;
  const checkpoint = text(row, "latest_checkpoint");
  const decoded = decodeCheckpoint(checkpoint);
  if (!decoded) throw new ReconcileError(`unexpected checkpoint "${checkpoint}" in ${params.schema}._ponder_checkpoint`);
  return { blockTimestamp: decoded.blockTimestamp, blockNumber: decoded.blockNumber };
}

/** Reads a whole table page by page, in primary-key order (keyset pagination). */
async function readPaged(params: {
  query: Query;
  select: string;
  from: string;
  orderBy: string[];
  pageSize: number;
  /** The WHERE clause that continues after the last row of the previous page. */
  after: (last: Row) => string;
}): Promise<Row[]> {
  const out: Row[] = [];
  let last: Row | undefined;
  for (;;) {
    const where = last ? `WHERE ${params.after(last)}` : "";
    // Columns are qualified with the table alias `t`: an unqualified ORDER BY name would sort by
    // the select list's text casts ("10" < "9") and the keyset pages would skip rows.
    const page = await params.query(
      `SELECT ${params.select} FROM ${params.from} AS t ${where} ORDER BY ${params.orderBy.map((c) => `t.${c}`).join(", ")} LIMIT ${params.pageSize}`,
    );
    out.push(...page);
    if (page.length < params.pageSize) return out;
    last = page[page.length - 1];
  }
}

function checkedDecimal(value: string): string {
  if (!DECIMAL.test(value)) throw new ReconcileError(`not a decimal: ${value}`);
  return value;
}
function checkedHex(value: string): string {
  if (!HEX.test(value)) throw new ReconcileError(`not hex: ${value}`);
  return value;
}

type IndexedChama = {
  id: bigint;
  name: string;
  creator: string;
  contributionAmount: bigint;
  totalContributed: bigint;
  totalPaidOut: bigint;
  balance: bigint;
  contributionCount: number;
  payoutCount: number;
  memberCount: number;
};
type IndexedMember = { chamaId: bigint; address: string; totalContributed: bigint; totalReceived: bigint; contributionCount: number; payoutCount: number };
type IndexedEvent = { id: string; chamaId: bigint; address: string; amount: bigint; timestamp: bigint; blockNumber: bigint; transactionHash: string; logIndex: number };

type IndexSnapshot = {
  block: bigint;
  blockTimestamp: bigint;
  chamas: IndexedChama[];
  members: IndexedMember[];
  contributions: IndexedEvent[];
  payouts: IndexedEvent[];
};

/** Reads the checkpoint and every table the reconciler checks, in one snapshot. */
export async function readIndex(params: { snapshot: Snapshot; schema: string; chainId: number; pageSize: number }): Promise<IndexSnapshot> {
  const { schema, pageSize } = params;
  const t = (table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
  return params.snapshot(async (query) => {
    const checkpoint = await readCheckpoint({ query, schema, chainId: params.chainId });
    if (!checkpoint) throw new ReconcileError(`schema "${schema}" has no checkpoint for chain ${params.chainId}: has the indexer started?`);

    const chamas = (
      await readPaged({
        query,
        pageSize,
        select:
          "id::text AS id, name, creator, contribution_amount::text AS contribution_amount, total_contributed::text AS total_contributed, " +
          "total_paid_out::text AS total_paid_out, balance::text AS balance, contribution_count, payout_count, member_count",
        from: t("chama"),
        orderBy: ["id"],
        after: (last) => `t.id > ${checkedDecimal(text(last, "id"))}`,
      })
    ).map((r) => ({
      id: BigInt(text(r, "id")),
      name: text(r, "name"),
      creator: text(r, "creator").toLowerCase(),
      contributionAmount: BigInt(text(r, "contribution_amount")),
      totalContributed: BigInt(text(r, "total_contributed")),
      totalPaidOut: BigInt(text(r, "total_paid_out")),
      balance: BigInt(text(r, "balance")),
      contributionCount: Number(r.contribution_count),
      payoutCount: Number(r.payout_count),
      memberCount: Number(r.member_count),
    }));

    const members = (
      await readPaged({
        query,
        pageSize,
        select:
          "chama_id::text AS chama_id, address, total_contributed::text AS total_contributed, total_received::text AS total_received, " +
          "contribution_count, payout_count",
        from: t("member"),
        orderBy: ["chama_id", "address"],
        after: (last) => `(t.chama_id, t.address) > (${checkedDecimal(text(last, "chama_id"))}, '${checkedHex(text(last, "address"))}')`,
      })
    ).map((r) => ({
      chamaId: BigInt(text(r, "chama_id")),
      address: text(r, "address").toLowerCase(),
      totalContributed: BigInt(text(r, "total_contributed")),
      totalReceived: BigInt(text(r, "total_received")),
      contributionCount: Number(r.contribution_count),
      payoutCount: Number(r.payout_count),
    }));

    const events = async (table: "contribution" | "payout", who: "contributor" | "recipient") =>
      (
        await readPaged({
          query,
          pageSize,
          select:
            `id, chama_id::text AS chama_id, ${who} AS address, amount::text AS amount, timestamp::text AS timestamp, ` +
            "block_number::text AS block_number, transaction_hash, log_index",
          from: t(table),
          orderBy: ["block_number", "log_index", "id"],
          after: (last) =>
            `(t.block_number, t.log_index, t.id) > (${checkedDecimal(text(last, "block_number"))}, ${checkedDecimal(text(last, "log_index"))}, '${text(last, "id").replace(/'/g, "''")}')`,
        })
      ).map((r) => ({
        id: text(r, "id"),
        chamaId: BigInt(text(r, "chama_id")),
        address: text(r, "address").toLowerCase(),
        amount: BigInt(text(r, "amount")),
        timestamp: BigInt(text(r, "timestamp")),
        blockNumber: BigInt(text(r, "block_number")),
        transactionHash: text(r, "transaction_hash").toLowerCase(),
        logIndex: Number(r.log_index),
      }));

    return {
      block: checkpoint.blockNumber,
      blockTimestamp: checkpoint.blockTimestamp,
      chamas,
      members,
      contributions: await events("contribution", "contributor"),
      payouts: await events("payout", "recipient"),
    };
  });
}

/** Runs `fn` over `items` in chunks of `size` at once; with a batching transport each chunk goes
 * out as one JSON-RPC batch. */
async function inChunks<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

const str = (v: bigint) => v.toString();

/** Compares the index with the chain at the indexer's checkpoint. Never throws for a difference:
 * differences are the report. Throws a ReconcileError when it cannot read one side. */
export async function reconcile(params: ReconcileParameters): Promise<ReconcileReport> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const pageSize = params.pageSize ?? 1_000;
  const batchSize = params.batchSize ?? 500;
  const logRange = BigInt(params.logRange ?? 50_000);
  const maxDiscrepancies = params.maxDiscrepancies ?? 1_000;
  const address = getAddress(params.address);
  const { client, stats } = countingClient({ rpcUrl: params.rpcUrl, batchSize, timeoutMs: params.rpcTimeoutMs ?? 30_000 });

  const index = await readIndex({ snapshot: params.snapshot, schema: params.schema, chainId: params.chainId, pageSize });
  const blockNumber = index.block;
  let mark = Date.now();
  const lap = () => {
    const now = Date.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
  const phasesMs = { readIndex: mark - started, logs: 0, chamaViews: 0, memberViews: 0 };

  const discrepancies: Discrepancy[] = [];
  let discrepancyCount = 0;
  const report = (d: Discrepancy) => {
    discrepancyCount += 1;
    if (discrepancies.length < maxDiscrepancies) discrepancies.push(d);
  };

  // --- Logs up to B, in ranges, folded into per-chama and per-member counts.
  const logs: {
    kind: "contribution" | "payout";
    chamaId: bigint;
    address: string;
    amount: bigint;
    timestamp: bigint;
    blockNumber: bigint;
    transactionHash: Hex;
    logIndex: number;
  }[] = [];
  const from = BigInt(params.startBlock);
  const ranges: [bigint, bigint][] = [];
  for (let start = from; start <= blockNumber; start += logRange) {
    const end = start + logRange - 1n < blockNumber ? start + logRange - 1n : blockNumber;
    ranges.push([start, end]);
  }
  /** eth_getLogs over a range; when the answer is refused or too big (viem caps a response at
   * 10 MB, providers cap result counts), the range is halved until it fits. */
  const getLogs = async (fromBlock: bigint, toBlock: bigint): Promise<Awaited<ReturnType<typeof fetchLogs>>> => {
    try {
      return await fetchLogs(fromBlock, toBlock);
    } catch (error) {
      if (fromBlock >= toBlock) throw error;
      const middle = (fromBlock + toBlock) / 2n;
      return [...(await getLogs(fromBlock, middle)), ...(await getLogs(middle + 1n, toBlock))];
    }
  };
  const fetchLogs = (fromBlock: bigint, toBlock: bigint) => client.getContractEvents({ address, abi: ChamaAbi, fromBlock, toBlock, strict: true });
  const logPages = await inChunks(ranges, 10, ([fromBlock, toBlock]) => getLogs(fromBlock, toBlock));
  let logCount = 0;
  for (const page of logPages) {
    for (const log of page) {
      logCount += 1;
      if (log.eventName === "ContributionMade") {
        logs.push({ kind: "contribution", chamaId: log.args.chamaId, address: log.args.contributor.toLowerCase(), amount: log.args.amount, timestamp: log.args.timestamp, blockNumber: log.blockNumber, transactionHash: log.transactionHash, logIndex: log.logIndex });
      } else if (log.eventName === "PayoutProcessed") {
        logs.push({ kind: "payout", chamaId: log.args.chamaId, address: log.args.recipient.toLowerCase(), amount: log.args.amount, timestamp: log.args.timestamp, blockNumber: log.blockNumber, transactionHash: log.transactionHash, logIndex: log.logIndex });
      }
    }
  }

  type Counts = { contributions: number; payouts: number; contributors: Set<string> };
  const chamaCounts = new Map<bigint, Counts>();
  const memberCounts = new Map<string, { chamaId: bigint; address: string; contributions: number; payouts: number }>();
  for (const log of logs) {
    const c = chamaCounts.get(log.chamaId) ?? { contributions: 0, payouts: 0, contributors: new Set<string>() };
    const key = `${log.chamaId}:${log.address}`;
    const m = memberCounts.get(key) ?? { chamaId: log.chamaId, address: log.address, contributions: 0, payouts: 0 };
    if (log.kind === "contribution") {
      c.contributions += 1;
      c.contributors.add(log.address);
      m.contributions += 1;
    } else {
      c.payouts += 1;
      m.payouts += 1;
    }
    chamaCounts.set(log.chamaId, c);
    memberCounts.set(key, m);
  }

  // --- Event rows against the logs.
  for (const kind of ["contribution", "payout"] as const) {
    compareKeyed({
      table: kind,
      chain: logs
        .filter((l) => l.kind === kind)
        .map((log) => [
          `${log.transactionHash.toLowerCase()}:${log.logIndex}`,
          { chamaId: str(log.chamaId), address: log.address, amount: str(log.amount), timestamp: str(log.timestamp), blockNumber: str(log.blockNumber) },
        ] as const),
      db: kind === "contribution" ? index.contributions : index.payouts,
      keyOf: (row) => `${row.transactionHash}:${row.logIndex}`,
      valuesOf: eventValues,
      report,
    });
  }

  phasesMs.logs = lap();

  // --- Chamas against getChama at B.
  const chamaCount = await client.readContract({ address, abi: ChamaAbi, functionName: "chamaCount", blockNumber });
  const ids: bigint[] = [];
  for (let id = 1n; id <= chamaCount; id++) ids.push(id);
  const views = await inChunks(ids, batchSize, (id) =>
    client.readContract({ address, abi: ChamaAbi, functionName: "getChama", args: [id], blockNumber }),
  );
  const chainChamas = ids.map((id, i): [string, Values] => {
    const [creator, name, contributionAmount, totalContributed, totalPaidOut] = views[i]!;
    const counts = chamaCounts.get(id);
    return [str(id), {
      name,
      creator: creator.toLowerCase(),
      contributionAmount: str(contributionAmount),
      totalContributed: str(totalContributed),
      totalPaidOut: str(totalPaidOut),
      balance: str(totalContributed - totalPaidOut),
      contributionCount: counts?.contributions ?? 0,
      payoutCount: counts?.payouts ?? 0,
      memberCount: counts?.contributors.size ?? 0,
    }];
  });
  compareKeyed({ table: "chama", chain: chainChamas, db: index.chamas, keyOf: (row) => str(row.id), valuesOf: chamaValues, report });
  phasesMs.chamaViews = lap();

  // --- Members against contributedBy / receivedBy at B: every (chama, address) in either side.
  const memberKey = (m: { chamaId: bigint; address: string }) => `${m.chamaId}:${m.address}`;
  const memberKeys = [...new Set([...memberCounts.keys(), ...index.members.map(memberKey)])];
  const memberArgs = memberKeys.map((key) => {
    const [chamaId, who] = key.split(":") as [string, string];
    return [BigInt(chamaId), getAddress(who)] as const;
  });
  const memberViews = await inChunks(memberArgs, Math.max(1, Math.floor(batchSize / 2)), (args) =>
    Promise.all([
      client.readContract({ address, abi: ChamaAbi, functionName: "contributedBy", args, blockNumber }),
      client.readContract({ address, abi: ChamaAbi, functionName: "receivedBy", args, blockNumber }),
    ]),
  );
  // The views answer for every key; a member is on the chain's side only if it has logs, and
  // an extra row is reported with what the views say about it.
  const memberViewValues = new Map(
    memberKeys.map((key, i): [string, Values] => {
      const [contributed, received] = memberViews[i]!;
      const counts = memberCounts.get(key);
      return [key, { totalContributed: str(contributed), totalReceived: str(received), contributionCount: counts?.contributions ?? 0, payoutCount: counts?.payouts ?? 0 }];
    }),
  );
  compareKeyed({
    table: "member",
    chain: [...memberViewValues].filter(([key]) => memberCounts.has(key)),
    db: index.members,
    keyOf: memberKey,
    valuesOf: memberValues,
    chainOfExtra: (key) => memberViewValues.get(key) ?? null,
    report,
  });

  phasesMs.memberViews = lap();

  // --- The contract's native balance against the sum of indexed chama balances.
  const balance = await client.getBalance({ address, blockNumber });
  const indexedBalance = index.chamas.reduce((sum, c) => sum + c.balance, 0n);
  if (balance !== indexedBalance) {
    report({
      kind: "value_mismatch",
      table: "contract",
      key: address.toLowerCase(),
      fields: ["balance"],
      db: { balance: str(indexedBalance) },
      chain: { balance: str(balance) },
    });
  }

  return {
    ok: discrepancyCount === 0,
    block: str(blockNumber),
    blockTimestamp: str(index.blockTimestamp),
    startedAt,
    durationMs: Date.now() - started,
    rows: { chamas: index.chamas.length, members: index.members.length, contributions: index.contributions.length, payouts: index.payouts.length },
    logs: logCount,
    rpc: { ...stats },
    phasesMs,
    discrepancyCount,
    discrepancies,
  };
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

function memberValues(row: IndexedMember): Values {
  return {
    totalContributed: str(row.totalContributed),
    totalReceived: str(row.totalReceived),
    contributionCount: row.contributionCount,
    payoutCount: row.payoutCount,
  };
}

function eventValues(row: IndexedEvent): Values {
  return { chamaId: str(row.chamaId), address: row.address, amount: str(row.amount), timestamp: str(row.timestamp), blockNumber: str(row.blockNumber) };
}

/** Something that runs SQL text and returns rows: a pg client, a PGlite instance or transaction. */
export type SqlClient = { query: (text: string) => Promise<{ rows: unknown[] }> };

/** A snapshot over a PostgreSQL connection: one REPEATABLE READ, READ ONLY transaction, so the
 * checkpoint and every page agree even while the indexer commits new blocks. */
export function postgresSnapshot(connect: () => Promise<SqlClient & { release?: () => void }>): Snapshot {
  return async (fn) => {
    const client = await connect();
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        const result = await fn(async (sql) => (await client.query(sql)).rows as Row[]);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    } finally {
      client.release?.();
    }
  };
}

/** A snapshot over PGlite: one transaction on its single connection (the indexer's writes wait
 * for it; PGlite is for development). */
export function pgliteSnapshot(instance: { transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => Promise<T> }): Snapshot {
  return (fn) => instance.transaction((tx) => fn(async (sql) => (await tx.query(sql)).rows as Row[]));
}
