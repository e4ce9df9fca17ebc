/**
 * The transaction ledger's HTTP face, mounted by ./index.ts (the ledger itself is ledger/):
 *
 *   POST /transactions          { "raw": "0x..." } relays a signed Chama call; { "hash": "0x..." }
 *                               registers one a wallet sent. 201 new, 200 already recorded.
 *   GET  /transactions/:hash    one record with its transitions (the audit trail)
 *   GET  /transactions          ?status=&chamaId=&from=&limit=&after= newest first, paged
 *   GET  /transactions/stream   ?chamaId=&from= every change as server-sent events (resumable
 *                               with Last-Event-ID; see LedgerChange in common/ledger-api.ts)
 *
 * Every refusal is a 4xx with `{ error, code }` that says why.
 */
import { db } from "ponder:api";
import schema from "ponder:schema";
import type { IncomingMessage } from "node:http";
import { type Column, and, asc, gt, inArray, lte } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Hash } from "viem";
import { getAddress, isAddress } from "viem";
import type { Env, LedgerEnv } from "../../config/env";
import { type LedgerChange, type LedgerStatus, LEDGER_STATUSES, LEDGER_STREAM_REPLAY } from "../../common/ledger-api";
import { errorMessage } from "../../common/errors";
import type { Ledger } from "../../ledger";
import { openLedger } from "../../ledger";
import type { IndexedEvent, IndexedEvents } from "../../ledger/follower";
import { IntakeRefusal, intakeHash, intakeRaw } from "../../ledger/intake";
import { type LedgerChangeRow, type RecordFilter, recordJson } from "../../ledger/store";
import { type RequestTextEnv, requestText } from "./limits";

/** Most records one page of `GET /transactions` returns. */
export const MAX_PAGE = 200;
const DEFAULT_PAGE = 50;

/** The index's event rows for these transaction hashes: contributions and payouts by their
 * transaction, chamas by the transaction that created them. */
async function indexedRows(hashes: Hash[]): Promise<Map<string, { chamaId: bigint }>> {
  const found = new Map<string, { chamaId: bigint }>();
  if (hashes.length === 0) return found;
  const lower = hashes.map((h) => h.toLowerCase() as Hash);
  const [contributions, payouts, chamas] = await Promise.all([
    db.select({ hash: schema.contribution.transactionHash, chamaId: schema.contribution.chamaId }).from(schema.contribution).where(inArray(schema.contribution.transactionHash, lower)),
    db.select({ hash: schema.payout.transactionHash, chamaId: schema.payout.chamaId }).from(schema.payout).where(inArray(schema.payout.transactionHash, lower)),
    db.select({ hash: schema.chama.createdTxHash, chamaId: schema.chama.id }).from(schema.chama).where(inArray(schema.chama.createdTxHash, lower)),
  ]);
  for (const row of [...contributions, ...payouts, ...chamas]) found.set(row.hash.toLowerCase(), { chamaId: row.chamaId });
  return found;
}

/** The index's events after `afterBlock` (through `throughBlock`), in block order: each table
 * read up to `limit` rows, and the answer cut at the last block every table has read whole. */
const indexedEvents: IndexedEvents = async ({ afterBlock, throughBlock, limit }) => {
  const range = (column: Column) =>
    throughBlock === undefined ? gt(column, afterBlock) : and(gt(column, afterBlock), lte(column, throughBlock));
  const [contributions, payouts, chamas] = await Promise.all([
    db.select().from(schema.contribution).where(range(schema.contribution.blockNumber)).orderBy(asc(schema.contribution.blockNumber)).limit(limit),
    db.select().from(schema.payout).where(range(schema.payout.blockNumber)).orderBy(asc(schema.payout.blockNumber)).limit(limit),
    db.select().from(schema.chama).where(range(schema.chama.createdAtBlock)).orderBy(asc(schema.chama.createdAtBlock)).limit(limit),
  ]);
  const events: IndexedEvent[] = [
    ...chamas.map((r) => ({ hash: r.createdTxHash, blockNumber: r.createdAtBlock, kind: "createChama" as const, chamaId: r.id, amount: r.contributionAmount, recipient: null, name: r.name })),
    ...contributions.map((r) => ({ hash: r.transactionHash, blockNumber: r.blockNumber, kind: "contribution" as const, chamaId: r.chamaId, amount: r.amount, recipient: null, name: null })),
    ...payouts.map((r) => ({ hash: r.transactionHash, blockNumber: r.blockNumber, kind: "payout" as const, chamaId: r.chamaId, amount: r.amount, recipient: r.recipient, name: null })),
  ].sort((a, b) => (a.blockNumber < b.blockNumber ? -1 : a.blockNumber > b.blockNumber ? 1 : 0));
  // A table cut at `limit` may hold more rows in its last block: the answer ends before it.
  let complete = events.at(-1)?.blockNumber;
  for (const rows of [contributions.map((r) => r.blockNumber), payouts.map((r) => r.blockNumber), chamas.map((r) => r.createdAtBlock)]) {
    if (rows.length === limit && complete !== undefined && rows[rows.length - 1]! - 1n < complete) complete = rows[rows.length - 1]! - 1n;
  }
  if (complete !== undefined && complete <= afterBlock) {
    // One block holds more than `limit` events of a table: take it whole (one block is bounded by its gas).
    return indexedEvents({ afterBlock, throughBlock: afterBlock + 1n, limit: Number.MAX_SAFE_INTEGER });
  }
  return { events: complete === undefined ? events : events.filter((e) => e.blockNumber <= complete), complete };
};

function log(line: string) {
  const logger = (globalThis as { PONDER_COMMON?: { logger?: { warn: (o: Record<string, unknown>) => void } } }).PONDER_COMMON?.logger;
  if (logger) logger.warn({ msg: line });
  else console.warn(line);
}

const fail = (c: Context, status: IntakeRefusal["status"] | 405, code: string, message: string, headers?: Record<string, string>) =>
  c.json({ error: message, code }, status, headers);

/** The client's address as the socket saw it (no proxy header is trusted). */
function clientKey(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket.remoteAddress ?? "unknown";
}

/** A change as the stream's JSON. */
const changeJson = (change: LedgerChangeRow): LedgerChange => ({ id: change.id.toString(), transaction: recordJson(change.record), transition: change.transition });

/** Changes a slow stream may have waiting before it is closed (the client resumes with
 * Last-Event-ID and gets them replayed). */
const MAX_STREAM_BACKLOG = 10_000;
const HEARTBEAT_MS = 15_000;

/** Checks the query of a list or a stream: only `allowed` keys, each well-formed. Returns the
 * parsed values, or the sentence that says what is wrong. */
function parseQuery(q: Record<string, string>, allowed: string[]): { filter: RecordFilter; status?: LedgerStatus; limit?: number; after?: bigint } | string {
  const unknown = Object.keys(q).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) return `Unknown query parameter ${unknown[0]}: use ${allowed.join(", ")}.`;
  if (q.status !== undefined && !LEDGER_STATUSES.includes(q.status as LedgerStatus)) return `status must be one of ${LEDGER_STATUSES.join(", ")}, got "${q.status}".`;
  if (q.chamaId !== undefined && !/^\d{1,78}$/.test(q.chamaId)) return `chamaId must be a whole number, got "${q.chamaId}".`;
  if (q.from !== undefined && !isAddress(q.from, { strict: false })) return `from must be an address, got "${q.from}".`;
  if (q.limit !== undefined && !(/^\d{1,4}$/.test(q.limit) && Number(q.limit) >= 1 && Number(q.limit) <= MAX_PAGE)) return `limit must be between 1 and ${MAX_PAGE}, got "${q.limit}".`;
  if (q.after !== undefined && !/^\d{1,19}$/.test(q.after)) return `after must be a cursor from an earlier answer (digits), got "${q.after}".`;
  return {
    filter: { chamaId: q.chamaId === undefined ? undefined : BigInt(q.chamaId), from: q.from === undefined ? undefined : getAddress(q.from) },
    status: q.status as LedgerStatus | undefined,
    limit: q.limit === undefined ? undefined : Number(q.limit),
    after: q.after === undefined ? undefined : BigInt(q.after),
  };
}

/** Opens the ledger and builds the sub-app; the routes wait for the ledger (a 503 that names the
 * cause when it could not be opened). */
export function createTransactionsApp(params: { env: Env; settings: LedgerEnv; maxBodyBytes: number }) {
  const opened = openLedger({ env: params.env, settings: params.settings, indexed: indexedRows, events: indexedEvents, log });
  opened.catch((error: unknown) => log(`Transaction ledger: could not open its database: ${errorMessage(error)}`));
  const ledger = async (c: Context): Promise<Ledger | Response> => {
    try {
      return await opened;
    } catch (error) {
      return c.json({ error: `The transaction ledger is unavailable: ${errorMessage(error)}`, code: "LEDGER_UNAVAILABLE" }, 503);
    }
  };

  const app = new Hono<RequestTextEnv>();

  app.post("/transactions", async (c) => {
    const l = await ledger(c);
    if (l instanceof Response) return l;
    if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) return fail(c, 415, "UNSUPPORTED_MEDIA_TYPE", "Send POST /transactions with Content-Type: application/json.");
    const text = await requestText(c, { maxBytes: params.maxBodyBytes });
    if (typeof text !== "string") return text;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail(c, 400, "BAD_JSON", 'The body is not JSON: send { "raw": "0x..." } or { "hash": "0x..." }.');
    }
    const fields = body !== null && typeof body === "object" && !Array.isArray(body) ? Object.keys(body) : [];
    if (fields.length !== 1 || (fields[0] !== "raw" && fields[0] !== "hash")) {
      return fail(c, 400, "BAD_BODY", 'Send exactly one of { "raw": "0x..." } (a signed transaction to relay) or { "hash": "0x..." } (one your wallet sent).');
    }
    try {
      l.perClient.hit(clientKey(c));
      const intake = { store: l.store, chain: l.chain, follower: l.follower, chamaAddress: l.chamaAddress, perSender: l.perSender };
      const value = (body as Record<string, unknown>)[fields[0]];
      const { record, created } = fields[0] === "raw" ? await intakeRaw({ ...intake, raw: value }) : await intakeHash({ ...intake, hash: value });
      return c.json(recordJson(record), created ? 201 : 200);
    } catch (error) {
      if (error instanceof IntakeRefusal) return fail(c, error.status, error.code, error.message, error.status === 429 ? { "retry-after": "60" } : undefined);
      throw error;
    }
  });

  app.get("/transactions/stream", async (c) => {
    const l = await ledger(c);
    if (l instanceof Response) return l;
    const parsed = parseQuery(c.req.query(), ["chamaId", "from", "after"]);
    if (typeof parsed === "string") return fail(c, 400, "BAD_QUERY", parsed);
    const lastEventId = c.req.header("last-event-id");
    if (lastEventId !== undefined && !/^\d{1,19}$/.test(lastEventId)) return fail(c, 400, "BAD_LAST_EVENT_ID", `Last-Event-ID must be the id of a change (digits), got "${lastEventId.slice(0, 40)}".`);
    const resumeAfter = lastEventId !== undefined ? BigInt(lastEventId) : parsed.after;
    if (l.feed.size >= params.settings.maxStreams) {
      return fail(c, 503, "TOO_MANY_STREAMS", `This server already serves ${params.settings.maxStreams} ledger streams (LEDGER_MAX_STREAMS): retry later, or poll GET /transactions.`, { "retry-after": "5" });
    }
    const { filter } = parsed;
    return streamSSE(c, async (stream) => {
      const queue: LedgerChangeRow[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      const end = () => {
        ended = true;
        wake?.();
      };
      const unsubscribe = await l.feed.subscribe({
        filter,
        send: (change) => {
          if (queue.length >= MAX_STREAM_BACKLOG) end();
          else queue.push(change);
          wake?.();
        },
        end,
      });
      stream.onAbort(end);
      try {
        // Subscribed first, then the replay: a change in between comes twice, never not at all.
        const position = await l.store.lastChangeId();
        const initial =
          resumeAfter !== undefined ? await l.store.changes({ ...filter, afterId: resumeAfter, limit: LEDGER_STREAM_REPLAY }) : await l.store.openChanges({ ...filter, limit: LEDGER_STREAM_REPLAY });
        const replayed = new Set<bigint>();
        for (const change of initial) {
          replayed.add(change.id);
          await stream.writeSSE({ event: "transaction", id: change.id.toString(), data: JSON.stringify(changeJson(change)) });
        }
        const last = initial.at(-1)?.id;
        await stream.writeSSE({ event: "ready", id: (last !== undefined && last > position ? last : position).toString(), data: "{}" });
        while (!ended && !stream.aborted && !stream.closed) {
          if (queue.length === 0) {
            const heartbeat = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(true), HEARTBEAT_MS);
              wake = () => {
                clearTimeout(timer);
                resolve(false);
              };
            });
            wake = undefined;
            if (heartbeat) await stream.write(": keep-alive\n\n");
            continue;
          }
          const change = queue.shift()!;
          if (replayed.has(change.id)) continue;
          await stream.writeSSE({ event: "transaction", id: change.id.toString(), data: JSON.stringify(changeJson(change)) });
        }
      } finally {
        unsubscribe();
      }
    });
  });

  app.get("/transactions/:hash", async (c) => {
    const l = await ledger(c);
    if (l instanceof Response) return l;
    const hash = c.req.param("hash");
    if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) return fail(c, 400, "BAD_HASH", "The path must end in a transaction hash: 0x and 64 hex digits.");
    const record = await l.store.get(hash as Hash);
    if (!record) return fail(c, 404, "NOT_FOUND", `The ledger holds no transaction ${hash.toLowerCase()}.`);
    return c.json({ ...recordJson(record), transitions: await l.store.transitions(record.hash) }, 200);
  });

  app.get("/transactions", async (c) => {
    const l = await ledger(c);
    if (l instanceof Response) return l;
    const parsed = parseQuery(c.req.query(), ["status", "chamaId", "from", "limit", "after"]);
    if (typeof parsed === "string") return fail(c, 400, "BAD_QUERY", parsed);
    const limit = parsed.limit ?? DEFAULT_PAGE;
    const records = await l.store.list({ ...parsed.filter, status: parsed.status, after: parsed.after, limit: limit + 1 });
    const items = records.slice(0, limit);
    const next = records.length > limit ? items[items.length - 1]!.seq.toString() : null;
    return c.json({ items: items.map(recordJson), next }, 200);
  });

  app.on(["PUT", "PATCH", "DELETE"], ["/transactions", "/transactions/:hash"], (c) =>
    fail(c, 405, "METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here: the ledger's records change only by the chain.`, { allow: c.req.path === "/transactions" ? "GET, POST" : "GET" }),
  );

  return { app, ledger: opened };
}
