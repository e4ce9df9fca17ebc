/**
 * The engine's indexer port on Ponder: rows by transaction hash over GraphQL, and newly indexed
 * blocks pushed by a live query (server-sent events on Ponder's `/sql/live`, as `@ponder/client`
 * opens it) on Ponder's checkpoint table, which changes with every indexed block (and moves back
 * on a reorg), with a word each time the stream connects or breaks.
 */
import { compileQuery, createClient, sql } from "@ponder/client";
import { EventSource } from "eventsource";
import superjson from "superjson";
import type { Address, Hash } from "viem";
import { decodeCheckpoint } from "../../../common/checkpoint";
import { JengaError } from "../../../common/errors";
import { graphql } from "../../../common/graphql";
import { type IndexedBlock, type IndexerPort, StreamRefusedError } from "./ports";
import type { IndexedRow } from "./types";

export class IndexerError extends JengaError {
  override name = "IndexerError";
}

const ROWS_QUERY = /* GraphQL */ `
  query PendingRows($hashes: [String]) {
    contributions(where: { transactionHash_in: $hashes }, limit: 1000) {
      items { chamaId contributor amount blockNumber transactionHash logIndex }
    }
    payouts(where: { transactionHash_in: $hashes }, limit: 1000) {
      items { chamaId recipient amount blockNumber transactionHash logIndex }
    }
    chamas(where: { createdTxHash_in: $hashes }, limit: 1000) {
      items { id name creator contributionAmount createdAtBlock createdTxHash }
    }
  }
`;

type EventItem = { chamaId: string; amount: string; blockNumber: string; transactionHash: Hash; logIndex: number };
type RowsData = {
  contributions: { items: (EventItem & { contributor: Address })[] };
  payouts: { items: (EventItem & { recipient: Address })[] };
  chamas: {
    items: { id: string; name: string; creator: Address; contributionAmount: string; createdAtBlock: string; createdTxHash: Hash }[];
  };
};

/** The indexed block a checkpoint names; throws IndexerError on a malformed one. */
function indexedBlock(checkpoint: string): IndexedBlock & { chainId: bigint } {
  const decoded = decodeCheckpoint(checkpoint);
  if (!decoded) throw new IndexerError(`unexpected checkpoint "${checkpoint}"`);
  return { timestamp: decoded.blockTimestamp, chainId: decoded.chainId, number: decoded.blockNumber };
}

export type PonderIndexerParameters = {
  /** The indexer's origin, e.g. http://127.0.0.1:42069 (GraphQL at /graphql, SQL at /sql). */
  url: string;
  chainId: number;
};

const CHECKPOINT_QUERY = sql`select chain_id, latest_checkpoint from _ponder_checkpoint`;

export function ponderIndexer(params: PonderIndexerParameters): IndexerPort {
  const base = params.url.replace(/\/$/, "");
  const client = createClient(`${base}/sql`);
  // The live query's address, built as `@ponder/client` builds it.
  const liveUrl = new URL(`${base}/sql/live`);
  liveUrl.searchParams.set("sql", superjson.stringify(compileQuery(CHECKPOINT_QUERY)));
  /** This chain's indexed block in a checkpoint query's rows (undefined: not indexed yet). */
  const chainBlock = (rows: CheckpointRow[]): IndexedBlock | undefined => {
    const row = rows.find((r) => Number(r.chain_id) === params.chainId);
    if (!row) return undefined;
    const { number, timestamp } = indexedBlock(row.latest_checkpoint);
    return { number, timestamp };
  };
  const readIndexedBlock = async () => chainBlock(checkpointRows(await client.db.execute(CHECKPOINT_QUERY)));
  return {
    readIndexedBlock,

    fetchRows: async ({ hashes }) => {
      const rows: IndexedRow[] = [];
      // Page through the hashes so one request stays small.
      for (let i = 0; i < hashes.length; i += 200) {
        const data = await graphql<RowsData>({
          url: `${base}/graphql`,
          query: ROWS_QUERY,
          variables: { hashes: hashes.slice(i, i + 200).map((h) => h.toLowerCase()) },
        });
        for (const c of data.contributions.items) {
          rows.push({
            kind: "contribution",
            transactionHash: c.transactionHash,
            logIndex: c.logIndex,
            blockNumber: BigInt(c.blockNumber),
            chamaId: BigInt(c.chamaId),
            account: c.contributor,
            amount: BigInt(c.amount),
          });
        }
        for (const p of data.payouts.items) {
          rows.push({
            kind: "payout",
            transactionHash: p.transactionHash,
            logIndex: p.logIndex,
            blockNumber: BigInt(p.blockNumber),
            chamaId: BigInt(p.chamaId),
            account: p.recipient,
            amount: BigInt(p.amount),
          });
        }
        for (const c of data.chamas.items) {
          rows.push({
            kind: "createChama",
            transactionHash: c.createdTxHash,
            blockNumber: BigInt(c.createdAtBlock),
            chamaId: BigInt(c.id),
            account: c.creator,
            amount: BigInt(c.contributionAmount),
            name: c.name,
          });
        }
      }
      return rows;
    },

    subscribe: ({ onBlock, onError, onOpen }) => {
      // A live query only speaks when the index changes, and Ponder refuses it (503) until the
      // backfill is done; a refused or broken stream is not retried by EventSource. So: once
      // connected, read the checkpoint (what was indexed while not connected), and after an
      // error reconnect with backoff, for as long as the engine holds the subscription.
      // (Ponder's own `client.live` opens the same EventSource but does not say when it is
      // connected; the connection line needs that.)
      let closed = false;
      let source: EventSource | undefined;
      let retryTimer: ReturnType<typeof setTimeout> | undefined;
      let backoffMs = 250;
      const fail = (error: unknown) => onError(error instanceof Error ? error : new IndexerError(String(error)));
      const emit = (read: () => IndexedBlock | undefined) => {
        let block: IndexedBlock | undefined;
        try {
          block = read();
        } catch (error) {
          fail(error);
          return;
        }
        if (block) onBlock(block);
      };
      const catchUp = () => {
        readIndexedBlock()
          .then((block) => {
            if (!closed && block) onBlock(block);
          })
          .catch(fail);
      };
      const connect = () => {
        if (closed) return;
        const current = new EventSource(liveUrl);
        source = current;
        current.onopen = () => {
          if (closed || source !== current) return;
          backoffMs = 250;
          onOpen?.();
          catchUp();
        };
        current.onmessage = (event) => {
          if (closed || source !== current) return;
          emit(() => chainBlock(checkpointRows(JSON.parse(String(event.data)) as unknown)));
        };
        current.onerror = (event) => {
          current.close();
          if (closed || source !== current) return;
          source = undefined;
          const detail = event.code !== undefined ? `${event.code} ${event.message ?? ""}`.trim() : event.message ?? "disconnected";
          // An HTTP status means the indexer answered: only the stream is refused.
          onError(event.code !== undefined ? new StreamRefusedError(`live stream refused: ${detail}`, { details: { status: event.code } }) : new IndexerError(`live stream: ${detail}`));
          if (retryTimer) return;
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            connect();
          }, backoffMs);
          backoffMs = Math.min(backoffMs * 2, 8_000);
        };
      };
      connect();
      return () => {
        closed = true;
        if (retryTimer) clearTimeout(retryTimer);
        source?.close();
        source = undefined;
      };
    },
  };
}

type CheckpointRow = { chain_id: number | string; latest_checkpoint: string };

/** The rows of a raw query: the live path hands back the row list, the one-off query an
 * object holding it. */
function checkpointRows(result: unknown): CheckpointRow[] {
  if (Array.isArray(result)) return result as CheckpointRow[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  if (Array.isArray(rows)) return rows as CheckpointRow[];
  throw new IndexerError(`unexpected live query result: ${JSON.stringify(result)?.slice(0, 200)}`);
}
