/**
 * The transaction ledger's HTTP face, mounted by ./index.ts (the ledger itself is ledger/):
 *
 *   POST /transactions          { "raw": "0x..." } relays a signed Chama call; { "hash": "0x..." }
 *                               registers one a wallet sent. 201 new, 200 already recorded.
 *   GET  /transactions/:hash    one record with its transitions (the audit trail)
 *   GET  /transactions          ?status=&chamaId=&from=&limit=&after= newest first, paged
 *
 * Every refusal is a 4xx with `{ error, code }` that says why.
 */
import { db } from "ponder:api";
import schema from "ponder:schema";
import type { IncomingMessage } from "node:http";
import { inArray } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { Hash } from "viem";
import { getAddress, isAddress } from "viem";
import type { Env, LedgerEnv } from "../../config/env";
import { type LedgerStatus, LEDGER_STATUSES } from "../../common/ledger-api";
import { errorMessage } from "../../common/errors";
import type { Ledger } from "../../ledger";
import { openLedger } from "../../ledger";
import { IntakeRefusal, intakeHash, intakeRaw } from "../../ledger/intake";
import { recordJson } from "../../ledger/store";
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

/** Opens the ledger and builds the sub-app; the routes wait for the ledger (a 503 that names the
 * cause when it could not be opened). */
export function createTransactionsApp(params: { env: Env; settings: LedgerEnv; maxBodyBytes: number }) {
  const opened = openLedger({ env: params.env, settings: params.settings, indexed: indexedRows, log });
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
    const q = c.req.query();
    const unknown = Object.keys(q).filter((k) => !["status", "chamaId", "from", "limit", "after"].includes(k));
    if (unknown.length > 0) return fail(c, 400, "BAD_QUERY", `Unknown query parameter ${unknown[0]}: use status, chamaId, from, limit and after.`);
    if (q.status !== undefined && !LEDGER_STATUSES.includes(q.status as LedgerStatus)) return fail(c, 400, "BAD_QUERY", `status must be one of ${LEDGER_STATUSES.join(", ")}, got "${q.status}".`);
    if (q.chamaId !== undefined && !/^\d{1,78}$/.test(q.chamaId)) return fail(c, 400, "BAD_QUERY", `chamaId must be a whole number, got "${q.chamaId}".`);
    if (q.from !== undefined && !isAddress(q.from, { strict: false })) return fail(c, 400, "BAD_QUERY", `from must be an address, got "${q.from}".`);
    if (q.limit !== undefined && !(/^\d{1,4}$/.test(q.limit) && Number(q.limit) >= 1 && Number(q.limit) <= MAX_PAGE)) return fail(c, 400, "BAD_QUERY", `limit must be between 1 and ${MAX_PAGE}, got "${q.limit}".`);
    if (q.after !== undefined && !/^\d{1,19}$/.test(q.after)) return fail(c, 400, "BAD_QUERY", `after must be the "next" cursor of an earlier page, got "${q.after}".`);
    const limit = q.limit === undefined ? DEFAULT_PAGE : Number(q.limit);
    const records = await l.store.list({
      status: q.status as LedgerStatus | undefined,
      chamaId: q.chamaId === undefined ? undefined : BigInt(q.chamaId),
      from: q.from === undefined ? undefined : getAddress(q.from),
      after: q.after === undefined ? undefined : BigInt(q.after),
      limit: limit + 1,
    });
    const items = records.slice(0, limit);
    const next = records.length > limit ? items[items.length - 1]!.seq.toString() : null;
    return c.json({ items: items.map(recordJson), next }, 200);
  });

  app.on(["PUT", "PATCH", "DELETE"], ["/transactions", "/transactions/:hash"], (c) =>
    fail(c, 405, "METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here: the ledger's records change only by the chain.`, { allow: c.req.path === "/transactions" ? "GET, POST" : "GET" }),
  );

  return { app, ledger: opened };
}
