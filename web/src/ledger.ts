/**
 * The app's side of the API's transaction ledger (README, "Transaction ledger"): the relay the
 * dev wallet sends through (`POST /transactions { raw }`), the registration of a hash an
 * injected wallet broadcast (`{ hash }`), and the reads (`GET /transactions`, the change stream)
 * that show every member's pending actions and the operator's lists. Every answer is external
 * input: its size is capped and each field is checked before it is used; amounts become bigints.
 */
import { type Address, type Hash, type Hex, getAddress, isAddress, keccak256 } from "viem";
import { JengaError, errorMessage } from "../../common/errors";
import {
  type LedgerChange,
  type LedgerFailureReason,
  type LedgerKind,
  type LedgerOrigin,
  type LedgerStatus,
  LEDGER_OPEN_STATUSES,
  LEDGER_STATUSES,
} from "../../common/ledger-api";

/** A ledger record as the app uses it: amounts and ids as bigints, times as ms since the epoch. */
export type LedgerEntry = {
  hash: Hash;
  from: Address;
  nonce: number;
  kind: LedgerKind;
  chamaId: bigint | null;
  amount: bigint;
  recipient: Address | null;
  name: string | null;
  status: LedgerStatus;
  origin: LedgerOrigin;
  error: { reason: LedgerFailureReason; message: string } | null;
  rebroadcasts: number;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
};

/** The API answered something that is not a ledger record (or page) as common/ledger-api.ts
 * defines it. */
export class LedgerAnswerError extends JengaError {
  override name = "LedgerAnswerError";
}

/** The API could not be reached, or answered "try later" (overloaded, rate-limited, a server
 * error): nothing was recorded for sure, and the same request may be sent again. */
export class LedgerUnreachableError extends JengaError {
  override name = "LedgerUnreachableError";
}

/** The API has no ledger: `POST /transactions` is not a route there (404), or its ledger's
 * database could not be opened (503 LEDGER_UNAVAILABLE). */
export class NoLedgerError extends JengaError {
  override name = "NoLedgerError";
}

/** The ledger refused the transaction with a 4xx that says why (`code` from src/api/transactions.ts). */
export class LedgerRefusedError extends JengaError {
  override name = "LedgerRefusedError";
  readonly status: number;
  readonly code: string;
  constructor(params: { status: number; code: string; message: string }) {
    super(params.message, { details: { status: params.status, code: params.code } });
    this.status = params.status;
    this.code = params.code;
  }
}

const FAILURE_REASONS: readonly LedgerFailureReason[] = ["reverted", "rejected", "timeout", "dropped", "replaced"];
const KINDS: readonly LedgerKind[] = ["createChama", "contribution", "payout"];
const ORIGINS: readonly LedgerOrigin[] = ["relay", "wallet", "chain"];

/** Longest message kept from an answer (a node's reason can be long). */
const MAX_MESSAGE_CHARS = 1_000;
/** Largest answer read: a page of 200 records is far below this. */
export const MAX_ANSWER_BYTES = 1_000_000;
/** Largest stream message read (one record and one transition). */
export const MAX_CHANGE_BYTES = 16_384;

const HASH = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^\d{1,78}$/;

function bad(what: string, value: unknown): never {
  const shown = typeof value === "string" ? `"${value.slice(0, 80)}"` : JSON.stringify(value)?.slice(0, 80) ?? String(value);
  throw new LedgerAnswerError(`The ledger answered a record whose ${what} is not valid (${shown}): the API and the app disagree on common/ledger-api.ts.`);
}

function str(o: Record<string, unknown>, key: string, max = 256): string {
  const v = o[key];
  if (typeof v !== "string" || v.length > max) bad(key, v);
  return v;
}

function time(o: Record<string, unknown>, key: string): number {
  const ms = Date.parse(str(o, key, 40));
  if (!Number.isFinite(ms)) bad(key, o[key]);
  return ms;
}

function address(o: Record<string, unknown>, key: string): Address {
  const v = str(o, key, 42);
  if (!isAddress(v, { strict: false })) bad(key, v);
  return getAddress(v);
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, allowed: readonly T[]): T {
  const v = o[key];
  if (typeof v !== "string" || !allowed.includes(v as T)) bad(key, v);
  return v as T;
}

/** A record from its JSON (LedgerTransaction), checked field by field. */
export function parseLedgerTransaction(value: unknown): LedgerEntry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad("body", value);
  const o = value as Record<string, unknown>;
  const hash = str(o, "hash", 66);
  if (!HASH.test(hash)) bad("hash", hash);
  const amount = str(o, "amount", 78);
  if (!UINT.test(amount)) bad("amount", amount);
  const chamaId = o.chamaId === null ? null : str(o, "chamaId", 78);
  if (chamaId !== null && !UINT.test(chamaId)) bad("chamaId", chamaId);
  const nonce = o.nonce;
  if (typeof nonce !== "number" || !Number.isSafeInteger(nonce) || nonce < 0) bad("nonce", nonce);
  const rebroadcasts = o.rebroadcasts;
  if (typeof rebroadcasts !== "number" || !Number.isSafeInteger(rebroadcasts) || rebroadcasts < 0) bad("rebroadcasts", rebroadcasts);
  let error: LedgerEntry["error"] = null;
  if (o.error !== null && o.error !== undefined) {
    if (typeof o.error !== "object" || Array.isArray(o.error)) bad("error", o.error);
    const e = o.error as Record<string, unknown>;
    const message = e.message;
    if (typeof message !== "string") bad("error.message", message);
    error = { reason: oneOf(e, "reason", FAILURE_REASONS), message: message.slice(0, MAX_MESSAGE_CHARS) };
  }
  const name = o.name === null || o.name === undefined ? null : str(o, "name", 512);
  return {
    hash: hash.toLowerCase() as Hash,
    from: address(o, "from"),
    nonce,
    kind: oneOf(o, "kind", KINDS),
    chamaId: chamaId === null ? null : BigInt(chamaId),
    amount: BigInt(amount),
    recipient: o.recipient === null || o.recipient === undefined ? null : address(o, "recipient"),
    name,
    status: oneOf(o, "status", LEDGER_STATUSES),
    origin: oneOf(o, "origin", ORIGINS),
    error,
    rebroadcasts,
    createdAt: time(o, "createdAt"),
    updatedAt: time(o, "updatedAt"),
    sentAt: o.sentAt === null || o.sentAt === undefined ? null : time(o, "sentAt"),
  };
}

/** One message of the change stream (`data` of `event: transaction`), checked; its `id` is a
 * decimal transition id. */
export function parseLedgerChange(data: string): { id: string; entry: LedgerEntry } {
  if (data.length > MAX_CHANGE_BYTES) throw new LedgerAnswerError(`A ledger change of ${data.length} bytes is over the ${MAX_CHANGE_BYTES} this app reads.`);
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (cause) {
    throw new LedgerAnswerError("A ledger change is not JSON.", { cause });
  }
  if (typeof value !== "object" || value === null) bad("change", value);
  const change = value as Partial<LedgerChange>;
  if (typeof change.id !== "string" || !/^\d{1,19}$/.test(change.id)) bad("change id", change.id);
  return { id: change.id, entry: parseLedgerTransaction(change.transaction) };
}

/** Reads an answer's text up to `maxBytes`, then stops reading. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const length = Number(response.headers.get("content-length") ?? "0");
  if (length > maxBytes) throw new LedgerAnswerError(`The ledger's answer is ${length} bytes, over the ${maxBytes} this app reads.`);
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new LedgerAnswerError(`The ledger's answer is over the ${maxBytes} bytes this app reads.`);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

type Answer = { status: number; body: unknown; text: string };

/** The API's `{ error, code }` of a refusal, if the body is one. */
function refusal(answer: Answer): { error: string; code: string } | undefined {
  const b = answer.body as { error?: unknown; code?: unknown } | null;
  if (b && typeof b === "object" && typeof b.error === "string" && typeof b.code === "string") {
    return { error: b.error.slice(0, MAX_MESSAGE_CHARS), code: b.code.slice(0, 64) };
  }
  return undefined;
}

export type LedgerClientParameters = {
  /** The API's origin (the app's indexer URL: /sync-health, /graphql and /transactions live there). */
  url: string;
  fetch?: typeof fetch;
  /** How long one request may take before it counts as unreachable. */
  timeoutMs?: number;
};

/** How a sent action reached the chain, as the sync panel says it. */
export type RelayState =
  | { mode: "unknown" }
  | { mode: "relay"; at: number }
  /** The API has no ledger: sent straight to the node, and nobody else sees these actions. */
  | { mode: "direct"; reason: string; at: number };

/** A hash the ledger would not register (a wallet's send): the chain is the truth, so the
 * action goes on; the refusal is shown to operators here and logged. */
export type Registration = { hash: Hash; state: "registered" | "retrying" | "refused" | "no-ledger"; message?: string; at: number };

/** Most registrations the client remembers (for the panel). */
const MAX_REGISTRATIONS = 20;
/** Back-off of a registration that could not reach the API: 0.5 s doubling to 30 s, for about
 * 10 minutes (the ledger's timeout: later, the follower would mark it failed anyway). */
export const REGISTER_BACKOFF = { firstMs: 500, maxMs: 30_000, attempts: 25 } as const;

export class LedgerClient {
  readonly url: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private relayState: RelayState = { mode: "unknown" };
  private registrations: Registration[] = [];
  private readonly listeners = new Set<() => void>();
  private stopped = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(params: LedgerClientParameters) {
    this.url = params.url.replace(/\/$/, "");
    this.fetchFn = params.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = params.timeoutMs ?? 15_000;
  }

  /** What the panel shows: how sends reach the chain, and the last registrations. */
  state(): { relay: RelayState; registrations: Registration[] } {
    return this.snapshot;
  }
  private snapshot: { relay: RelayState; registrations: Registration[] } = { relay: this.relayState, registrations: [] };

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.snapshot = { relay: this.relayState, registrations: this.registrations };
    for (const listener of this.listeners) listener();
  }

  /** Lets registrations run (after a stop()). */
  start(): void {
    this.stopped = false;
  }

  /** Ends pending registration retries (the app is unmounting). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async request(params: { method: "GET" | "POST"; path: string; body?: unknown; signal?: AbortSignal }): Promise<Answer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const abort = () => controller.abort();
    params.signal?.addEventListener("abort", abort);
    let response: Response;
    try {
      response = await this.fetchFn(`${this.url}${params.path}`, {
        method: params.method,
        headers: params.body === undefined ? undefined : { "content-type": "application/json" },
        body: params.body === undefined ? undefined : JSON.stringify(params.body),
        signal: controller.signal,
      });
    } catch (cause) {
      clearTimeout(timer);
      params.signal?.removeEventListener("abort", abort);
      if (params.signal?.aborted) throw cause;
      throw new LedgerUnreachableError(`The API's ledger at ${this.url} is unreachable (${errorMessage(cause)}).`, { cause });
    }
    try {
      const text = await readCapped(response, MAX_ANSWER_BYTES);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: response.status, body, text };
    } catch (cause) {
      if (cause instanceof LedgerAnswerError) throw cause;
      throw new LedgerUnreachableError(`The API's answer from ${this.url}${params.path} broke off (${errorMessage(cause)}).`, { cause });
    } finally {
      clearTimeout(timer);
      params.signal?.removeEventListener("abort", abort);
    }
  }

  /** Sorts an intake answer: the record (201 new, 200 already recorded), no ledger, try again
   * later, or a refusal. */
  private intakeAnswer(answer: Answer, what: string): { entry: LedgerEntry; created: boolean } {
    const why = refusal(answer);
    if (answer.status === 200 || answer.status === 201) return { entry: parseLedgerTransaction(answer.body), created: answer.status === 201 };
    if ((answer.status === 404 && why?.code !== "UNKNOWN_TRANSACTION") || (answer.status === 503 && why?.code === "LEDGER_UNAVAILABLE")) {
      throw new NoLedgerError(
        answer.status === 404
          ? `POST ${this.url}/transactions answered 404: this API keeps no transaction ledger (LEDGER_ENABLED=false?).`
          : `The API's ledger is unavailable: ${why?.error ?? "503"}`,
      );
    }
    if (answer.status === 429 || answer.status >= 500) {
      throw new LedgerUnreachableError(`The ledger could not take ${what} now (${answer.status}${why ? ` ${why.code}: ${why.error}` : ""}); it is sent again later.`);
    }
    throw new LedgerRefusedError({
      status: answer.status,
      code: why?.code ?? String(answer.status),
      message: why?.error ?? `POST /transactions answered ${answer.status}: ${answer.text.slice(0, 200)}`,
    });
  }

  /**
   * Relays a signed transaction: returns its hash once the ledger recorded it (and, unless the
   * server could not reach its node, broadcast it). Throws NoLedgerError (send it yourself),
   * LedgerUnreachableError (nothing known: send the same bytes again later; the relay is
   * idempotent by hash) or LedgerRefusedError (`NODE_REFUSED` carries the node's reason).
   */
  async relay(raw: Hex): Promise<Hash> {
    let result: { entry: LedgerEntry; created: boolean };
    try {
      result = this.intakeAnswer(await this.request({ method: "POST", path: "/transactions", body: { raw } }), "the transaction");
    } catch (error) {
      if (error instanceof NoLedgerError) this.setRelay({ mode: "direct", reason: error.message, at: Date.now() });
      throw error;
    }
    const hash = keccak256(raw);
    if (result.entry.hash !== hash.toLowerCase()) {
      throw new LedgerAnswerError(`The relay answered with transaction ${result.entry.hash}, not ${hash}, the one signed.`);
    }
    this.setRelay({ mode: "relay", at: Date.now() });
    return hash;
  }

  private setRelay(next: RelayState): void {
    const prev = this.relayState;
    this.relayState = next;
    if (next.mode === "direct" && prev.mode !== "direct") console.warn(`Jenga: sending straight to the node, not through the ledger: ${next.reason}`);
    // The panel's snapshot changes only when what it says changes (not the time of each send).
    if (prev.mode !== next.mode || (next.mode === "direct" && prev.mode === "direct" && prev.reason !== next.reason)) this.changed();
  }

  private note(registration: Registration): void {
    this.registrations = [registration, ...this.registrations.filter((r) => r.hash !== registration.hash)].slice(0, MAX_REGISTRATIONS);
    this.changed();
  }

  /**
   * Registers a hash an injected wallet broadcast, in the background: retried with back-off
   * while the API cannot be reached (or its node has not seen the transaction yet); a refusal
   * never fails the action (the chain is the truth) but is logged and kept for the panel.
   */
  register(hash: Hash): void {
    let attempt = 0;
    const run = async () => {
      if (this.stopped) return;
      attempt++;
      try {
        this.intakeAnswer(await this.request({ method: "POST", path: "/transactions", body: { hash } }), "the hash");
        this.note({ hash, state: "registered", at: Date.now() });
        return;
      } catch (error) {
        const notSeenYet = error instanceof LedgerRefusedError && error.code === "UNKNOWN_TRANSACTION";
        if ((error instanceof LedgerUnreachableError || notSeenYet) && attempt < REGISTER_BACKOFF.attempts) {
          this.note({ hash, state: "retrying", message: errorMessage(error), at: Date.now() });
          const delay = Math.min(REGISTER_BACKOFF.maxMs, REGISTER_BACKOFF.firstMs * 2 ** (attempt - 1));
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            void run();
          }, delay);
          this.timers.add(timer);
          return;
        }
        const state = error instanceof NoLedgerError ? "no-ledger" : "refused";
        console.warn(`Jenga: the ledger did not register transaction ${hash}: ${errorMessage(error)}`);
        this.note({ hash, state, message: errorMessage(error), at: Date.now() });
      }
    };
    void run();
  }

  /** `GET /transactions` with these filters (one page, newest first). Throws NoLedgerError on
   * 404/503 LEDGER_UNAVAILABLE, LedgerUnreachableError when it cannot be read. */
  async list(params: { status?: LedgerStatus; chamaId?: bigint; from?: Address; limit?: number; after?: string; signal?: AbortSignal }): Promise<{ items: LedgerEntry[]; next: string | null }> {
    const query = new URLSearchParams();
    if (params.status) query.set("status", params.status);
    if (params.chamaId !== undefined) query.set("chamaId", params.chamaId.toString());
    if (params.from) query.set("from", params.from);
    if (params.limit !== undefined) query.set("limit", String(params.limit));
    if (params.after !== undefined) query.set("after", params.after);
    const answer = await this.request({ method: "GET", path: `/transactions?${query.toString()}`, signal: params.signal });
    const why = refusal(answer);
    if (answer.status === 404 || (answer.status === 503 && why?.code === "LEDGER_UNAVAILABLE")) {
      throw new NoLedgerError(answer.status === 404 ? "This API keeps no transaction ledger (GET /transactions answered 404)." : `The API's ledger is unavailable: ${why?.error ?? "503"}`);
    }
    if (answer.status !== 200) throw new LedgerUnreachableError(`GET /transactions answered ${answer.status}${why ? `: ${why.error}` : ""}.`);
    const page = answer.body as { items?: unknown; next?: unknown } | undefined;
    if (!page || !Array.isArray(page.items) || (page.next !== null && typeof page.next !== "string")) {
      throw new LedgerAnswerError("GET /transactions answered JSON without items and next.");
    }
    return { items: page.items.map(parseLedgerTransaction), next: page.next };
  }

  /** Every open record (draft, pending, confirmed) matching the filters, up to `limit` of each. */
  async listOpen(params: { chamaId?: bigint; limit?: number; signal?: AbortSignal }): Promise<LedgerEntry[]> {
    const pages = await Promise.all(LEDGER_OPEN_STATUSES.map((status) => this.list({ ...params, status })));
    return pages.flatMap((p) => p.items);
  }
}

/** True for statuses the follower still moves (shown as in flight). */
export function isOpen(status: LedgerStatus): boolean {
  return LEDGER_OPEN_STATUSES.includes(status);
}

/** True for the finished failures a person should read about (the reason is in `error`). */
export function isFailure(status: LedgerStatus): boolean {
  return status === "failed" || status === "dropped" || status === "replaced";
}
