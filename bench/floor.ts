/**
 * The floor: the least work that gets the same events into the same database. It fetches the
 * Chama logs and their blocks' timestamps from the same anvil with batched JSON-RPC, decodes
 * them and bulk-inserts one raw row per event. No derived tables, no reorg handling, no cache:
 * an indexer can only approach this, which is why it is the reference for the backfill figures.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { type Address, type Hex, decodeEventLog, hexToNumber, toHex } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { rpcBatch, rpcBatched } from "../test/_support/json-rpc";

export type FloorDatabase = { kind: "postgres"; url: string } | { kind: "pglite"; directory: string };

type Log = { blockNumber: Hex; logIndex: Hex; transactionHash: Hex; topics: [Hex, ...Hex[]]; data: Hex };

type Sql = { exec: (sql: string, params?: unknown[]) => Promise<void>; close: () => Promise<void> };

async function connect(db: FloorDatabase): Promise<Sql> {
  if (db.kind === "postgres") {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    return {
      exec: async (sql, params) => {
        await client.query(sql, params);
      },
      close: () => client.end(),
    };
  }
  const client = new PGlite(db.directory);
  return {
    exec: async (sql, params) => {
      if (params) await client.query(sql, params);
      else await client.exec(sql);
    },
    close: () => client.close(),
  };
}

/** Fetches and stores every Chama event in [fromBlock, toBlock]; returns the event count. */
export async function runFloor(params: {
  rpcUrl: string;
  address: Address;
  fromBlock: number;
  toBlock: number;
  db: FloorDatabase;
  schema: string;
}): Promise<{ events: number; seconds: number }> {
  const started = performance.now();
  const sql = await connect(params.db);
  try {
    await sql.exec(`CREATE SCHEMA IF NOT EXISTS ${params.schema}`);
    await sql.exec(`CREATE TABLE ${params.schema}.raw_event (
      id text PRIMARY KEY, kind text NOT NULL, chama_id numeric(78) NOT NULL, address text NOT NULL,
      amount numeric(78), block_number bigint NOT NULL, block_timestamp bigint NOT NULL,
      transaction_hash text NOT NULL, log_index integer NOT NULL)`);

    // Logs in ranges of 10,000 blocks, all ranges in one batch.
    const ranges: { method: string; params: unknown[] }[] = [];
    for (let from = params.fromBlock; from <= params.toBlock; from += 10_000) {
      const to = Math.min(from + 9_999, params.toBlock);
      ranges.push({ method: "eth_getLogs", params: [{ address: params.address, fromBlock: toHex(from), toBlock: toHex(to) }] });
    }
    const logs = (await rpcBatch<Log[]>(params.rpcUrl, ranges)).flat();

    // Timestamps of the blocks that hold events.
    const blockNumbers = [...new Set(logs.map((log) => log.blockNumber))];
    const blocks = await rpcBatched<{ number: Hex; timestamp: Hex }>(
      params.rpcUrl,
      blockNumbers.map((n) => ({ method: "eth_getBlockByNumber", params: [n, false] })),
      { batchSize: 500, concurrency: 4 },
    );
    const timestamps = new Map(blocks.map((b) => [b.number, BigInt(b.timestamp).toString()]));

    const columns = { id: [] as string[], kind: [] as string[], chama: [] as string[], address: [] as string[], amount: [] as (string | null)[], block: [] as string[], ts: [] as string[], hash: [] as string[], index: [] as number[] };
    for (const log of logs) {
      const event = decodeEventLog({ abi: ChamaAbi, topics: log.topics, data: log.data });
      const blockNumber = hexToNumber(log.blockNumber);
      const logIndex = hexToNumber(log.logIndex);
      columns.id.push(`${blockNumber}-${logIndex}`);
      columns.kind.push(event.eventName);
      columns.block.push(String(blockNumber));
      columns.ts.push(timestamps.get(log.blockNumber)!);
      columns.hash.push(log.transactionHash);
      columns.index.push(logIndex);
      columns.chama.push(event.args.chamaId.toString());
      if (event.eventName === "ChamaCreated") {
        columns.address.push(event.args.creator.toLowerCase());
        columns.amount.push(event.args.contributionAmount.toString());
      } else if (event.eventName === "ContributionMade") {
        columns.address.push(event.args.contributor.toLowerCase());
        columns.amount.push(event.args.amount.toString());
      } else if (event.eventName === "PayoutProcessed") {
        columns.address.push(event.args.recipient.toLowerCase());
        columns.amount.push(event.args.amount.toString());
      }
    }

    const CHUNK = 10_000;
    for (let i = 0; i < logs.length; i += CHUNK) {
      const slice = <T>(a: T[]) => a.slice(i, i + CHUNK);
      await sql.exec(
        `INSERT INTO ${params.schema}.raw_event SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::numeric[], $6::bigint[], $7::bigint[], $8::text[], $9::int[])`,
        [slice(columns.id), slice(columns.kind), slice(columns.chama), slice(columns.address), slice(columns.amount), slice(columns.block), slice(columns.ts), slice(columns.hash), slice(columns.index)],
      );
    }
    return { events: logs.length, seconds: (performance.now() - started) / 1000 };
  } finally {
    await sql.close();
  }
}
