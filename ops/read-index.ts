/**
 * The index's side of a reconciliation: the indexer's checkpoint (block B) and every row of the
 * tables the reconciler checks, read page by page inside one read-only snapshot, so B and the
 * rows agree while the indexer keeps writing.
 */
import { decodeCheckpoint } from "../common/checkpoint";
import { ReconcileError } from "./errors";
import type { Query, Row, Snapshot } from "./snapshot";

export type IndexedChama = {
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
  /** The transaction that created it (lowercase). */
  createdTxHash: string;
};
export type IndexedMember = { chamaId: bigint; address: string; totalContributed: bigint; totalReceived: bigint; contributionCount: number; payoutCount: number };
export type IndexedEvent = { id: string; chamaId: bigint; address: string; amount: bigint; timestamp: bigint; blockNumber: bigint; transactionHash: string; logIndex: number };

/** What the index holds at its checkpoint: block B, its timestamp, and the rows. */
export type IndexSnapshot = {
  block: bigint;
  blockTimestamp: bigint;
  chamas: IndexedChama[];
  members: IndexedMember[];
  contributions: IndexedEvent[];
  payouts: IndexedEvent[];
};

const DECIMAL = /^\d+$/;
const HEX = /^0x[0-9a-fA-F]*$/;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (value === null || value === undefined) throw new ReconcileError(`column ${column} is null`, { details: { column } });
  return String(value);
}

function checkedDecimal(value: string): string {
  if (!DECIMAL.test(value)) throw new ReconcileError(`not a decimal: ${value}`, { details: { value } });
  return value;
}

function checkedHex(value: string): string {
  if (!HEX.test(value)) throw new ReconcileError(`not hex: ${value}`, { details: { value } });
  return value;
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
  if (!decoded) {
    throw new ReconcileError(`unexpected checkpoint "${checkpoint}" in ${params.schema}._ponder_checkpoint`, { details: { schema: params.schema, checkpoint } });
  }
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

/** Where one table is read from: the query inside the snapshot, the table's quoted name, the page size. */
type TableSource = { query: Query; from: string; pageSize: number };

async function readChamas(source: TableSource): Promise<IndexedChama[]> {
  const rows = await readPaged({
    ...source,
    select:
      "id::text AS id, name, creator, contribution_amount::text AS contribution_amount, total_contributed::text AS total_contributed, " +
      "total_paid_out::text AS total_paid_out, balance::text AS balance, contribution_count, payout_count, member_count, created_tx_hash",
    orderBy: ["id"],
    after: (last) => `t.id > ${checkedDecimal(text(last, "id"))}`,
  });
  return rows.map((r) => ({
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
    createdTxHash: text(r, "created_tx_hash").toLowerCase(),
  }));
}

async function readMembers(source: TableSource): Promise<IndexedMember[]> {
  const rows = await readPaged({
    ...source,
    select:
      "chama_id::text AS chama_id, address, total_contributed::text AS total_contributed, total_received::text AS total_received, " +
      "contribution_count, payout_count",
    orderBy: ["chama_id", "address"],
    after: (last) => `(t.chama_id, t.address) > (${checkedDecimal(text(last, "chama_id"))}, '${checkedHex(text(last, "address"))}')`,
  });
  return rows.map((r) => ({
    chamaId: BigInt(text(r, "chama_id")),
    address: text(r, "address").toLowerCase(),
    totalContributed: BigInt(text(r, "total_contributed")),
    totalReceived: BigInt(text(r, "total_received")),
    contributionCount: Number(r.contribution_count),
    payoutCount: Number(r.payout_count),
  }));
}

/** Contribution or payout rows; `who` is the column holding the member's address. */
async function readEvents(params: TableSource & { who: "contributor" | "recipient" }): Promise<IndexedEvent[]> {
  const { who, ...source } = params;
  const rows = await readPaged({
    ...source,
    select:
      `id, chama_id::text AS chama_id, ${who} AS address, amount::text AS amount, timestamp::text AS timestamp, ` +
      "block_number::text AS block_number, transaction_hash, log_index",
    orderBy: ["block_number", "log_index", "id"],
    after: (last) =>
      `(t.block_number, t.log_index, t.id) > (${checkedDecimal(text(last, "block_number"))}, ${checkedDecimal(text(last, "log_index"))}, '${text(last, "id").replace(/'/g, "''")}')`,
  });
  return rows.map((r) => ({
    id: text(r, "id"),
    chamaId: BigInt(text(r, "chama_id")),
    address: text(r, "address").toLowerCase(),
    amount: BigInt(text(r, "amount")),
    timestamp: BigInt(text(r, "timestamp")),
    blockNumber: BigInt(text(r, "block_number")),
    transactionHash: text(r, "transaction_hash").toLowerCase(),
    logIndex: Number(r.log_index),
  }));
}

/** Reads the checkpoint and every table the reconciler checks, in one snapshot. */
export async function readIndex(params: { snapshot: Snapshot; schema: string; chainId: number; pageSize: number }): Promise<IndexSnapshot> {
  const { schema, chainId, pageSize } = params;
  const source = (query: Query, table: string): TableSource => ({ query, pageSize, from: `${quoteIdent(schema)}.${quoteIdent(table)}` });
  return params.snapshot(async (query) => {
    const checkpoint = await readCheckpoint({ query, schema, chainId });
    if (!checkpoint) throw new ReconcileError(`schema "${schema}" has no checkpoint for chain ${chainId}: has the indexer started?`, { details: { schema, chainId } });
    return {
      block: checkpoint.blockNumber,
      blockTimestamp: checkpoint.blockTimestamp,
      chamas: await readChamas(source(query, "chama")),
      members: await readMembers(source(query, "member")),
      contributions: await readEvents({ ...source(query, "contribution"), who: "contributor" }),
      payouts: await readEvents({ ...source(query, "payout"), who: "recipient" }),
    };
  });
}
