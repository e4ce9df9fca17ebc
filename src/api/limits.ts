/**
 * Bounds on every HTTP request to the API, mounted by ./index.ts:
 *
 * - `bodyCap`: every request body, counted as it arrives, 413 past the cap; a refused body is
 *   still read (and thrown away) up to a bound so that the client sees the 413, not a reset.
 * - `requestText`: the body as text for the middlewares that read it (the guard, the response
 *   cache), read from the client once per request, each reader's own cap checked.
 * - `loadShedder`: a bounded number of GraphQL/SQL requests at once and a short bounded queue;
 *   past that a fast 503 with Retry-After instead of a slow timeout.
 * - `graphqlGuard`: the size of a GraphQL request's arguments wherever they are written (inline
 *   or in variables): filter clauses, nesting depth, list items, variables bytes; a negative
 *   `limit`/`offset`; methods other than GET/POST. Internal errors in answers are masked.
 * - `corsPolicy`: which browser origins may read answers (Ponder's server allows `*` and
 *   graphql-yoga reflects any origin with credentials).
 *
 * Ponder's own routes (/health, /ready, /status, /metrics) are served before this app and none
 * of this touches them.
 */
import type { IncomingMessage } from "node:http";
import { type ArgumentNode, type DocumentNode, Kind, type ValueNode, parse, visit } from "graphql";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { LRUCache } from "lru-cache";
import { JengaError } from "../../common/errors";

/** A refusal: the status, a message that names the limit and its setting, and a stable code. */
export type Refusal = { status: 400 | 403 | 405 | 413 | 415 | 503; message: string; code: string; headers?: Record<string, string> };

function isGraphQLPath(path: string): boolean {
  return path === "/" || path === "/graphql";
}

/** Answers a refusal: GraphQL-shaped JSON on the GraphQL routes, plain text elsewhere. */
export function refuse(c: Context, refusal: Refusal): Response {
  const headers = { ...refusal.headers };
  if (isGraphQLPath(c.req.path)) {
    return c.json({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] }, refusal.status, headers);
  }
  return c.text(refusal.message, refusal.status, headers);
}

/** A request body past API_MAX_BODY_BYTES: the client sends a smaller one. */
export class BodyTooLargeError extends JengaError {
  override name = "BodyTooLargeError";
  override readonly expected = true;
  readonly maxBytes: number;
  constructor(params: { maxBytes: number }) {
    super(bodyTooLargeMessage(params.maxBytes));
    this.maxBytes = params.maxBytes;
  }
}

function bodyTooLargeMessage(maxBytes: number): string {
  return `Request body larger than ${maxBytes} bytes (API_MAX_BODY_BYTES).`;
}

/** 413 for a body over `maxBytes`, with `Connection: close` so the connection is not reused. */
export function bodyTooLarge(c: Context, maxBytes: number): Response {
  return refuse(c, { status: 413, code: "BODY_TOO_LARGE", message: bodyTooLargeMessage(maxBytes), headers: { connection: "close" } });
}

/** How much of a refused body is still read and thrown away, and for how long. A client is
 * usually still sending when the 413 is ready; a server that closes a socket with unread data
 * makes the kernel reset it, and the client then sees "fetch failed" (EPIPE) instead of the
 * answer that says why. A body beyond these bounds (an endless upload) is cut off. */
const LINGER_BYTES = 16 * 1024 * 1024;
const LINGER_MS = 2_000;

/** Node's request under Ponder's server (@hono/node-server), while nothing has read it. */
function unreadIncoming(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming && !incoming.readableDidRead ? incoming : undefined;
}

/** Reads `incoming` to its end, keeping at most the first `maxBytes`. Past them the rest is
 * read and dropped until it ends, LINGER_BYTES more arrived or LINGER_MS passed; then the
 * request is destroyed. `size` over `maxBytes` means the body was too large. */
async function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<{ chunks: Buffer[]; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let linger: NodeJS.Timeout | undefined;
  try {
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size <= maxBytes) {
        chunks.push(chunk);
        continue;
      }
      linger ??= setTimeout(() => incoming.destroy(), LINGER_MS);
      if (size > maxBytes + LINGER_BYTES) break;
    }
  } catch (error) {
    // Destroyed by the linger timer: the refusal stands. Anything else (a client gone
    // mid-body) is the caller's error.
    if (size <= maxBytes) throw error;
  } finally {
    clearTimeout(linger);
  }
  return { chunks, size };
}

/** Caps every request body at `maxBytes`: a Content-Length over it is refused without keeping
 * a byte; a chunked body is read here (see `requestText`) and refused as soon as it passes the
 * cap. Either way the rest of a refused body is drained within bounds before the 413. */
export function bodyCap(params: { maxBytes: number }): MiddlewareHandler<RequestTextEnv> {
  return createMiddleware<RequestTextEnv>(async (c, next) => {
    if (!c.req.raw.body) return next();
    const declared = c.req.header("content-length");
    if (declared !== undefined && c.req.header("transfer-encoding") === undefined) {
      // Node's parser holds a request to its Content-Length: a body within it needs no count.
      const length = Number(declared);
      if (length <= params.maxBytes) return next();
      const incoming = unreadIncoming(c);
      if (incoming && length <= params.maxBytes + LINGER_BYTES) await readIncoming(incoming, 0).catch(() => undefined);
      return bodyTooLarge(c, params.maxBytes);
    }
    const text = await requestText(c, { maxBytes: params.maxBytes });
    if (text instanceof Response) return text;
    return next();
  });
}

/** A body read by `requestText`: its text and its size as it arrived. */
type BodyText = { text: string; bytes: number };

/** What `requestText` keeps on the Hono context: the one read of this request's body. */
export type RequestTextEnv = { Variables: { requestText?: Promise<BodyText> } };

/** The request body as text, or the 413 answer for a body over `maxBytes`. The first caller
 * reads it from the client, never past its own cap, and hands the next handler an equal
 * request; a later caller in the same request gets the same text, refused as its own read
 * would be if it is over that caller's cap. Under Ponder's server it is read straight from
 * Node's request, which spares a cache hit building a full fetch Request. */
export async function requestText(c: Context<RequestTextEnv>, params: { maxBytes: number }): Promise<string | Response> {
  let read = c.get("requestText");
  if (!read) {
    read = readCapped(c, params.maxBytes).then((body) => {
      // The body stream is spent: hand the next handler an equal request.
      c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers: c.req.raw.headers, body: body.text });
      return body;
    });
    c.set("requestText", read);
  }
  let body: BodyText;
  try {
    body = await read;
  } catch (error) {
    if (error instanceof BodyTooLargeError) return bodyTooLarge(c, error.maxBytes);
    throw error;
  }
  if (body.bytes > params.maxBytes) return bodyTooLarge(c, params.maxBytes);
  return body.text;
}

async function readCapped(c: Context, maxBytes: number): Promise<BodyText> {
  const incoming = unreadIncoming(c);
  if (incoming) {
    const { chunks, size } = await readIncoming(incoming, maxBytes);
    if (size > maxBytes) throw new BodyTooLargeError({ maxBytes });
    return { text: Buffer.concat(chunks).toString("utf8"), bytes: size };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = c.req.raw.body?.getReader();
  if (reader) {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) throw new BodyTooLargeError({ maxBytes });
        chunks.push(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  return { text: Buffer.concat(chunks).toString("utf8"), bytes: size };
}

export type LoadShedderParameters = {
  /** Requests served at once. */
  maxConcurrent: number;
  /** Requests that may wait for a slot. */
  maxQueued: number;
  /** Longest wait for a slot. */
  queueTimeoutMs: number;
};

export type LoadShedderStats = { running: number; queued: number; shed: number };

/** Seconds a shed client is told to wait. */
const RETRY_AFTER_SECONDS = 1;

/** Serves at most `maxConcurrent` requests at once, queues up to `maxQueued` more for at most
 * `queueTimeoutMs`, and answers the rest at once with 503 and Retry-After. */
export function loadShedder(params: LoadShedderParameters) {
  let running = 0;
  let shed = 0;
  const queue: Array<(granted: boolean) => void> = [];
  const busy = (c: Context, message: string) => {
    shed++;
    return refuse(c, { status: 503, code: "OVERLOADED", message, headers: { "retry-after": String(RETRY_AFTER_SECONDS) } });
  };
  const release = () => {
    const waiter = queue.shift();
    // The slot passes straight to the next in line, so `running` stays as it is.
    if (waiter) waiter(true);
    else running--;
  };

  const middleware = createMiddleware(async (c, next) => {
    if (running >= params.maxConcurrent) {
      if (queue.length >= params.maxQueued) {
        return busy(
          c,
          `Server busy: ${params.maxConcurrent} requests running and ${params.maxQueued} waiting (API_MAX_CONCURRENT_REQUESTS, API_MAX_QUEUED_REQUESTS). Retry after ${RETRY_AFTER_SECONDS} s.`,
        );
      }
      let timer: NodeJS.Timeout | undefined;
      const granted = await new Promise<boolean>((resolve) => {
        const waiter = (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok);
        };
        queue.push(waiter);
        timer = setTimeout(() => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          resolve(false);
        }, params.queueTimeoutMs);
      });
      if (!granted) {
        return busy(c, `Server busy: no free slot within ${params.queueTimeoutMs} ms (API_QUEUE_TIMEOUT_MS). Retry after ${RETRY_AFTER_SECONDS} s.`);
      }
    } else {
      running++;
      // Yield once before working: on PGlite a request runs to its end without real I/O, so
      // without this the requests that arrived together would each start and finish before the
      // next is even seen, and none would ever be counted as waiting.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    try {
      await next();
    } finally {
      release();
    }
  });

  return Object.assign(middleware, { stats: (): LoadShedderStats => ({ running, queued: queue.length, shed }) });
}

export type GraphQLGuardParameters = {
  maxBodyBytes: number;
  maxVariablesBytes: number;
  maxFilterClauses: number;
  maxFilterDepth: number;
  maxListItems: number;
  /** The same token limit GraphQL parses with, so this module's own parse is bounded too. */
  maxTokens: number;
};

/** Ponder's pagination bound (graphql/index.ts: MAX_LIMIT); Ponder itself refuses more. */
const MAX_PAGE_SIZE = 1000;

/** A GraphQL request past one of the limits: the message names the limit and its setting. */
class GuardRefusal extends JengaError {
  override name = "GuardRefusal";
  override readonly expected = true;
  readonly code: string;
  constructor(params: { message: string; code: string }) {
    super(params.message);
    this.code = params.code;
  }
}

type Budget = { clauses: number; items: number };

/** Measures every argument of `document` (with `variables` substituted) against the limits;
 * throws GuardRefusal naming the first one passed. Exported for the unit tests. */
export function checkArguments(params: {
  document: DocumentNode;
  variables: Record<string, unknown>;
  limits: Pick<GraphQLGuardParameters, "maxFilterClauses" | "maxFilterDepth" | "maxListItems">;
}): void {
  const { document, variables, limits } = params;
  const budget: Budget = { clauses: 0, items: 0 };
  const defaults = new Map<string, ValueNode>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const v of definition.variableDefinitions ?? []) if (v.defaultValue) defaults.set(v.variable.name.value, v.defaultValue);
  }
  const resolve = (name: string): { json: unknown } | { ast: ValueNode } | undefined => {
    if (name in variables) return { json: variables[name] };
    const fallback = defaults.get(name);
    return fallback ? { ast: fallback } : undefined;
  };

  const tooDeep = () => tooDeepRefusal(limits.maxFilterDepth);
  const addClauses = (n: number) => {
    budget.clauses += n;
    if (budget.clauses > limits.maxFilterClauses) {
      throw new GuardRefusal({ code: "LIMIT_EXCEEDED", message: `The filters have more than ${limits.maxFilterClauses} clauses (GRAPHQL_MAX_FILTER_CLAUSES).` });
    }
  };
  const addItems = (n: number) => {
    budget.items += n;
    if (budget.items > limits.maxListItems) {
      throw new GuardRefusal({ code: "LIMIT_EXCEEDED", message: `The arguments hold more than ${limits.maxListItems} list items (GRAPHQL_MAX_LIST_ITEMS).` });
    }
  };

  // Objects and lists nest one level each (Ponder's filters only nest lists in objects, so a
  // filter's depth is its AND/OR levels plus one); recursion stops at the limit.
  const measureJson = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== "object") return;
    if (depth + 1 > limits.maxFilterDepth) throw tooDeep();
    if (Array.isArray(value)) {
      addItems(value.length);
      for (const item of value) measureJson(item, Array.isArray(item) ? depth + 1 : depth);
      return;
    }
    const entries = Object.values(value as Record<string, unknown>);
    addClauses(entries.length);
    for (const item of entries) measureJson(item, depth + 1);
  };
  const measureAst = (node: ValueNode, depth: number): void => {
    switch (node.kind) {
      case Kind.VARIABLE: {
        const value = resolve(node.name.value);
        if (value && "json" in value) measureJson(value.json, depth);
        else if (value) measureAst(value.ast, depth);
        return;
      }
      case Kind.LIST:
        if (depth + 1 > limits.maxFilterDepth) throw tooDeep();
        addItems(node.values.length);
        for (const item of node.values) measureAst(item, item.kind === Kind.LIST ? depth + 1 : depth);
        return;
      case Kind.OBJECT:
        if (depth + 1 > limits.maxFilterDepth) throw tooDeep();
        addClauses(node.fields.length);
        for (const field of node.fields) measureAst(field.value, depth + 1);
        return;
      default:
        return;
    }
  };
  const integerOf = (node: ValueNode): number | undefined => {
    if (node.kind === Kind.INT) return Number(node.value);
    if (node.kind === Kind.VARIABLE) {
      const value = resolve(node.name.value);
      if (value && "json" in value) return typeof value.json === "number" ? value.json : undefined;
      return value ? integerOf(value.ast) : undefined;
    }
    return undefined;
  };
  const checkPaging = (node: ArgumentNode) => {
    const name = node.name.value;
    if (name !== "limit" && name !== "offset") return;
    const n = integerOf(node.value);
    if (n === undefined || n >= 0) return;
    throw new GuardRefusal({
      code: "BAD_USER_INPUT",
      message: name === "limit" ? `Argument "limit" must be between 0 and ${MAX_PAGE_SIZE}, got ${n}.` : `Argument "offset" must be 0 or more, got ${n}.`,
    });
  };

  visit(document, {
    Argument(node) {
      checkPaging(node);
      measureAst(node.value, 0);
    },
  });
}

/** The length of `JSON.stringify(value)` in UTF-8 for a value from JSON.parse, without building
 * the string: a value nested deeper than `maxDepth` is refused (stringify would overflow the
 * stack on a few thousand levels). */
function jsonBytes(params: { value: unknown; maxDepth: number }): number {
  const size = (value: unknown, depth: number): number => {
    if (value === undefined) return 0;
    if (value === null || typeof value !== "object") return Buffer.byteLength(JSON.stringify(value));
    if (depth + 1 > params.maxDepth) throw tooDeepRefusal(params.maxDepth);
    if (Array.isArray(value)) {
      let n = 2 + Math.max(0, value.length - 1);
      for (const item of value) n += size(item, depth + 1);
      return n;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    let n = 2 + Math.max(0, entries.length - 1);
    for (const [key, item] of entries) n += Buffer.byteLength(JSON.stringify(key)) + 1 + size(item, depth + 1);
    return n;
  };
  return size(params.value, 0);
}

function tooDeepRefusal(maxDepth: number): GuardRefusal {
  return new GuardRefusal({ code: "LIMIT_EXCEEDED", message: `A filter is nested more than ${maxDepth} levels deep (GRAPHQL_MAX_FILTER_DEPTH).` });
}

/** Ponder's resolvers throw plain errors for a few bad inputs; their text is for the client.
 * Every other error raised while executing is masked. */
const USER_ERRORS = [
  /^Invalid limit\. Got -?\d+, expected <=\d+\.$/,
  /^Unknown column "[A-Za-z0-9_]+" used in orderBy argument$/,
  /^Cannot specify both (before and after cursors|after cursor and offset|before cursor and offset)\.$/,
];

type GraphQLErrorJson = { message?: unknown; locations?: unknown; path?: unknown; extensions?: { code?: unknown; originalError?: unknown; unexpected?: unknown } };

/** The error to send: parse, validation and limit errors as they are (without any stack); an
 * internal error as "Internal error" with code INTERNAL. Returns whether it was masked. */
export function maskError(error: GraphQLErrorJson): { error: GraphQLErrorJson; masked: boolean } {
  const message = typeof error.message === "string" ? error.message : "";
  const executing = error.path !== undefined;
  const unexpected = error.extensions?.originalError !== undefined || error.extensions?.unexpected === true;
  const internal = message === "" || (executing ? !USER_ERRORS.some((re) => re.test(message)) : unexpected);
  const where = { ...(error.locations !== undefined ? { locations: error.locations } : {}), ...(executing ? { path: error.path } : {}) };
  if (internal) return { error: { message: "Internal error", ...where, extensions: { code: "INTERNAL" } }, masked: true };
  const code = typeof error.extensions?.code === "string" ? error.extensions.code : executing ? "BAD_USER_INPUT" : "GRAPHQL_VALIDATION_FAILED";
  return { error: { message, ...where, extensions: { code } }, masked: false };
}

function logMasked(errors: GraphQLErrorJson[]) {
  const logger = (globalThis as { PONDER_COMMON?: { logger?: { warn: (o: Record<string, unknown>) => void } } }).PONDER_COMMON?.logger;
  for (const error of errors) {
    const text = typeof error.message === "string" ? error.message : JSON.stringify(error);
    // Ponder's logger takes only an Error as `error`; the text goes in the message.
    if (logger) logger.warn({ msg: `Internal error, answered as "Internal error": ${text}` });
    else console.warn(`Internal error, answered as "Internal error": ${text}`);
  }
}

/** Bounds a GraphQL request before it reaches GraphQL, and masks internal errors in the answer. */
export function graphqlGuard(params: GraphQLGuardParameters) {
  const documents = new LRUCache<string, DocumentNode>({ max: 500 });
  const parsed = (query: string): DocumentNode | undefined => {
    const known = documents.get(query);
    if (known) return known;
    try {
      const document = parse(query, { maxTokens: params.maxTokens, noLocation: true });
      documents.set(query, document);
      return document;
    } catch {
      // GraphQL reports the syntax or token-limit error itself.
      return undefined;
    }
  };

  const check = (body: string): GuardRefusal | undefined => {
    let request: unknown;
    try {
      request = JSON.parse(body);
    } catch {
      return undefined; // GraphQL answers "POST body sent invalid JSON."
    }
    if (request === null || typeof request !== "object" || Array.isArray(request)) return undefined;
    const { query, variables: rawVariables } = request as { query?: unknown; variables?: unknown };
    let variables: unknown = rawVariables ?? {};
    let variablesBytes: number;
    try {
      variablesBytes = typeof rawVariables === "string" ? Buffer.byteLength(rawVariables) : jsonBytes({ value: rawVariables, maxDepth: params.maxFilterDepth });
    } catch (error) {
      if (error instanceof GuardRefusal) return error;
      throw error;
    }
    if (variablesBytes > params.maxVariablesBytes) {
      return new GuardRefusal({ code: "LIMIT_EXCEEDED", message: `The variables are larger than ${params.maxVariablesBytes} bytes (GRAPHQL_MAX_VARIABLES_BYTES).` });
    }
    if (typeof variables === "string") {
      try {
        variables = JSON.parse(variables);
      } catch {
        return undefined;
      }
    }
    if (typeof query !== "string" || variables === null || typeof variables !== "object" || Array.isArray(variables)) return undefined;
    const document = parsed(query);
    if (!document) return undefined;
    try {
      checkArguments({ document, variables: variables as Record<string, unknown>, limits: params });
    } catch (error) {
      if (error instanceof GuardRefusal) return error;
      throw error;
    }
    return undefined;
  };

  return createMiddleware<RequestTextEnv>(async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    if (method !== "POST") {
      return refuse(c, { status: 405, code: "METHOD_NOT_ALLOWED", message: `${method} is not allowed here: send GraphQL as POST (GET serves GraphiQL).`, headers: { allow: "GET, HEAD, POST" } });
    }
    if (!/^application\/(graphql-response\+)?json\b/i.test(c.req.header("content-type") ?? "")) {
      return refuse(c, { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: "Send GraphQL as POST with Content-Type: application/json." });
    }
    const body = await requestText(c, { maxBytes: params.maxBodyBytes });
    if (typeof body !== "string") return body;
    const refusal = check(body);
    if (refusal) return refuse(c, { status: 400, code: refusal.code, message: refusal.message });

    await next();

    const response = c.res;
    if (!(response.headers.get("content-type") ?? "").includes("json")) return;
    const text = await response.text();
    // graphql-js puts `errors` before `data`: an answer that starts with `data` has none.
    if (text.startsWith('{"data":')) {
      c.res = new Response(text, { status: response.status, headers: response.headers });
      return;
    }
    let answer: { errors?: GraphQLErrorJson[]; data?: unknown };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      c.res = undefined;
      c.res = c.json({ errors: [{ message: "Internal error", extensions: { code: "INTERNAL" } }] }, 500);
      return;
    }
    if (!Array.isArray(answer.errors)) {
      c.res = new Response(text, { status: response.status, headers: response.headers });
      return;
    }
    const results = answer.errors.map((e) => maskError(e ?? {}));
    logMasked(answer.errors.filter((_, i) => results[i]!.masked));
    const errors = results.map((r) => r.error);
    // No `data` at all: the request itself was refused (parse, validation, variables), a client
    // error. Ponder's middleware turns every status into 200; put 400 back.
    const status = "data" in answer ? response.status : results.every((r) => !r.masked) ? 400 : 500;
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    // Hono copies the old answer's headers (its Content-Length too) onto a new one: drop it first.
    c.res = undefined;
    c.res = new Response(JSON.stringify("data" in answer ? { errors, data: answer.data } : { errors }), { status, headers });
  });
}

/** For `app.onError`: an exception that escapes a handler is logged and answered as "Internal
 * error" (Ponder's own handler would send its name, message and source file to the client). */
export function internalError(error: unknown, c: Context): Response {
  logMasked([{ message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }]);
  if (isGraphQLPath(c.req.path)) return c.json({ errors: [{ message: "Internal error", extensions: { code: "INTERNAL" } }] }, 500);
  return c.text("Internal error", 500);
}

/** Answers anything thrown that is not an Error (a string from deep inside GraphQL, say) as
 * `internalError` does: Hono's onError sees only Error instances. Mount it first. */
export function catchThrown(): MiddlewareHandler {
  return async (c, next) => {
    try {
      await next();
    } catch (thrown) {
      c.res = internalError(thrown, c);
    }
  };
}

/** True when `origin` is listed: exactly, by `scheme://host:*` (any port), or by `*`. */
export function originAllowed(origin: string, allowed: string[]): boolean {
  for (const entry of allowed) {
    if (entry === "*" || entry === origin) return true;
    if (entry.endsWith(":*")) {
      const base = entry.slice(0, -2);
      if (origin === base || (origin.startsWith(`${base}:`) && /^\d{1,5}$/.test(origin.slice(base.length + 1)))) return true;
    }
  }
  return false;
}

/** The origin of the API itself as the browser sees it, from the Host header. */
function ownOrigin(c: Context): string | undefined {
  const host = c.req.header("host");
  if (!host) return undefined;
  return `${new URL(c.req.url).protocol}//${host}`;
}

/** Sets who may read answers from a browser: the listed origins and the API's own, never with
 * credentials (graphql-yoga reflects any origin with `Access-Control-Allow-Credentials: true`;
 * that is replaced here). Answers preflights (OPTIONS) itself: Ponder's server answers them
 * with `*` only for its own routes (patches/ponder+0.16.10.patch). `/reconcile` allows no other
 * origin, so its preflight never grants one. */
export function corsPolicy(params: { origins: string[] }): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
      const origin = c.req.header("origin");
      const headers: Record<string, string> = { vary: "Origin" };
      const allowed = origin !== undefined && c.req.path !== "/reconcile" && (originAllowed(origin, params.origins) || origin === ownOrigin(c));
      if (allowed) {
        headers["access-control-allow-origin"] = params.origins.includes("*") ? "*" : origin;
        headers["access-control-allow-methods"] = "GET, HEAD, POST";
        // last-event-id: a fetch-based client resuming the ledger's stream (EventSource sends it
        // without a preflight).
        headers["access-control-allow-headers"] = "content-type, accept, cache-control, last-event-id";
        headers["access-control-max-age"] = "600";
      }
      return c.body(null, 204, headers);
    }
    await next();
    const origin = c.req.header("origin");
    const headers = c.res.headers;
    headers.delete("access-control-allow-credentials");
    if (origin && (originAllowed(origin, params.origins) || origin === ownOrigin(c))) {
      headers.set("access-control-allow-origin", params.origins.includes("*") ? "*" : origin);
    } else {
      headers.delete("access-control-allow-origin");
    }
    headers.append("vary", "Origin");
  };
}

/** Refuses a request sent from a browser page of another origin (403), whatever its
 * preflight said: for endpoints with side effects such as POST /reconcile. */
export function sameOriginOnly(): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && origin !== ownOrigin(c)) {
      return refuse(c, { status: 403, code: "CROSS_ORIGIN", message: `${c.req.path} does not accept requests from other origins (got Origin: ${origin}).` });
    }
    await next();
  };
}
