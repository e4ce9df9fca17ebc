/**
 * Every HTTP request to the API is bounded, against a real anvil and the real indexer on PGlite
 * and PostgreSQL: huge filters (inline and in variables), endless bodies, overload, foreign
 * origins, crafted cursors and bad methods each get an exact refusal, the data is unchanged,
 * and /health and a normal query answer within a second afterwards.
 */
import http from "node:http";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ADMIN_TOKEN, type Indexer, startIndexer } from "./_support/indexer";
import { accounts, type Chain, chamaAs, databases, deploy, startChain } from "./_support/chain";
import { SAT } from "../common/chain";

const DATA = `{ chamas(orderBy: "id") { items { id totalContributed contributionCount } }
  contributions(orderBy: "id", limit: 1000) { totalCount items { id amount } } }`;

const LIST = `query($w: contributionFilter) { contributions(where: $w) { items { id } } }`;

type Answer = { status: number; headers: Headers; body: { data?: unknown; errors?: unknown[] } };

/** The limits the indexer runs with: small concurrency so overload is easy to reach. */
const LIMITS = { API_MAX_CONCURRENT_REQUESTS: "2", API_MAX_QUEUED_REQUESTS: "2", API_QUEUE_TIMEOUT_MS: "500" };

describe.each(databases)("API request limits on %s", (database) => {
  let chain: Chain;
  let indexer: Indexer;
  let address: Address;
  let data: unknown;

  /** POSTs a GraphQL request (no-cache: every one reaches GraphQL). */
  async function post(params: { query: string; variables?: unknown; body?: string; headers?: Record<string, string>; timeoutMs?: number }): Promise<Answer> {
    const response = await fetch(`${indexer.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "cache-control": "no-cache", ...params.headers },
      body: params.body ?? JSON.stringify({ query: params.query, variables: params.variables }),
      signal: AbortSignal.timeout(params.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    try {
      return { status: response.status, headers: response.headers, body: JSON.parse(text) as Answer["body"] };
    } catch {
      throw new Error(`Not JSON (${response.status}): ${text.slice(0, 500)}`);
    }
  }

  /** The refusal body the API sends on GraphQL routes. */
  const refusal = (message: string, code: string) => ({ errors: [{ message, extensions: { code } }] });

  /** /health and the data query both answer within a second, and the data is what it was. */
  async function expectHealthy() {
    const started = performance.now();
    const health = await fetch(`${indexer.url}/health`, { signal: AbortSignal.timeout(1_000) });
    expect(health.status).toBe(200);
    const answer = await post({ query: DATA, timeoutMs: 1_000 });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data });
    expect(performance.now() - started).toBeLessThan(1_000);
  }

  beforeAll(async () => {
    chain = await startChain();
    let startBlock: number;
    ({ address, startBlock } = await deploy(chain));
    const member = (i: number) => chamaAs({ chain, address, account: accounts[i]! });
    await member(0).createChama("Alpha", 0n);
    for (let i = 1; i <= 3; i++) await member(i).contribute(1n, BigInt(i) * 100n * SAT);
    await chain.testClient.mine({ blocks: 40 });
    indexer = await startIndexer({ chain, address, startBlock, database, env: { ...LIMITS, ADMIN_TOKEN } });
    await indexer.waitForBlock();
    const first = await post({ query: DATA });
    expect(first.body.errors).toBeUndefined();
    data = first.body.data;
    expect((data as { contributions: { totalCount: number } }).contributions.totalCount).toBe(3);
  });

  afterAll(async () => {
    await indexer?.stop();
    await chain?.stop();
  });

  test("a filter with too many clauses is refused, inline and in variables", async () => {
    const clauses = Array.from({ length: 250 }, (_, i) => ({ amount: String(i) }));
    const expected = refusal("The filters have more than 200 clauses (GRAPHQL_MAX_FILTER_CLAUSES).", "LIMIT_EXCEEDED");

    const inVariables = await post({ query: LIST, variables: { w: { OR: clauses } } });
    expect(inVariables.status).toBe(400);
    expect(inVariables.body).toEqual(expected);

    const inline = `{ contributions(where: { OR: [${clauses.map((c) => `{ amount: "${c.amount}" }`).join(", ")}] }) { items { id } } }`;
    const inlineAnswer = await post({ query: inline });
    expect(inlineAnswer.status).toBe(400);
    expect(inlineAnswer.body).toEqual(expected);
    await expectHealthy();
  });

  test("the 65,000-clause OR in variables (2.2 MB) is refused by the body cap and breaks nothing", async () => {
    const clauses = Array.from({ length: 65_000 }, (_, i) => ({ amount_gte: String(i), id: `0x${i.toString(16)}` }));
    const answer = await post({ query: LIST, variables: { w: { OR: clauses } } });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(refusal("Request body larger than 131072 bytes (API_MAX_BODY_BYTES).", "BODY_TOO_LARGE"));
    await expectHealthy();
  });

  test("a client still sending a body of up to 16 MB over the cap reads the 413, never a reset", async () => {
    const expected = refusal("Request body larger than 131072 bytes (API_MAX_BODY_BYTES).", "BODY_TOO_LARGE");
    for (const megabytes of [1, 4, 12]) {
      const pad = "a".repeat(megabytes * 1024 * 1024);
      // With a Content-Length (refused before a byte is kept) and chunked (counted as it comes).
      const declared = await post({ query: LIST, body: `{"query":"{ chamas { items { id } } }","pad":"${pad}"}` });
      expect(declared.status).toBe(413);
      expect(declared.body).toEqual(expected);
      const bytes = new TextEncoder().encode(`{"pad":"${pad}"}`);
      const chunked = await fetch(`${indexer.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new ReadableStream({
          pull(controller) {
            for (let at = 0; at < bytes.length; at += 64 * 1024) controller.enqueue(bytes.subarray(at, at + 64 * 1024));
            controller.close();
          },
        }),
        duplex: "half",
        signal: AbortSignal.timeout(10_000),
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(await chunked.json()).toEqual(expected);
    }
    await expectHealthy();
  });

  test("AND nested 3,000 levels deep in variables is refused by the depth limit", async () => {
    // Written by hand: JSON.stringify itself overflows the stack on this.
    const where = `${'{"AND":['.repeat(3_000)}{"amount":"1"}${"]}".repeat(3_000)}`;
    const answer = await post({ query: LIST, body: `{"query":${JSON.stringify(LIST)},"variables":{"w":${where}}}` });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(refusal("A filter is nested more than 8 levels deep (GRAPHQL_MAX_FILTER_DEPTH).", "LIMIT_EXCEEDED"));
    await expectHealthy();
  });

  test("an _in list over GRAPHQL_MAX_LIST_ITEMS and oversized variables are refused", async () => {
    const list = await post({ query: LIST, variables: { w: { amount_in: Array.from({ length: 1_500 }, (_, i) => String(i)) } } });
    expect(list.status).toBe(400);
    expect(list.body).toEqual(refusal("The arguments hold more than 1000 list items (GRAPHQL_MAX_LIST_ITEMS).", "LIMIT_EXCEEDED"));

    const padded = await post({ query: LIST, variables: { w: { amount: "1" }, pad: "x".repeat(70_000) } });
    expect(padded.status).toBe(400);
    expect(padded.body).toEqual(refusal("The variables are larger than 65536 bytes (GRAPHQL_MAX_VARIABLES_BYTES).", "LIMIT_EXCEEDED"));
    await expectHealthy();
  });

  test("a 400 MB chunked POST is cut off at the cap with 413, and memory stays flat", async () => {
    const rssBefore = await residentBytes(indexer.url);
    const started = performance.now();
    const result = await endlessPost({ url: `${indexer.url}/graphql`, maxBytes: 400 * 1024 * 1024 });
    const seconds = (performance.now() - started) / 1000;
    const rssAfter = await residentBytes(indexer.url);
    console.log(
      `${database}: 400 MB chunked POST: ${result.status ?? `connection ${result.reset ?? "?"}`} after ${seconds.toFixed(2)} s, ${(result.sent / 1024 / 1024).toFixed(1)} MB sent; ` +
        `RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MB`,
    );
    // The server drops at most 16 MB past the cap and closes: a client still writing sees the
    // 413 or, when the close overtakes it, a reset.
    if (result.status !== undefined) {
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body)).toEqual(refusal("Request body larger than 131072 bytes (API_MAX_BODY_BYTES).", "BODY_TOO_LARGE"));
    } else {
      expect(["ECONNRESET", "EPIPE"]).toContain(result.reset);
    }
    expect(result.sent).toBeLessThan(64 * 1024 * 1024);
    expect(seconds).toBeLessThan(5);
    expect(rssAfter - rssBefore).toBeLessThan(200 * 1024 * 1024);

    // The same with a declared Content-Length: refused without reading past the headers.
    const declared = await endlessPost({ url: `${indexer.url}/graphql`, maxBytes: 400 * 1024 * 1024, declareLength: true });
    expect(declared.status ?? declared.reset).toSatisfy((s) => s === 413 || s === "ECONNRESET" || s === "EPIPE");
    expect(declared.sent).toBeLessThan(64 * 1024 * 1024);

    // A chunked body just over the cap, sent whole: the exact refusal.
    const over = new TextEncoder().encode(`{"query":"{ chamas { items { id } } }","pad":"${"a".repeat(140 * 1024)}"}`);
    const chunked = await fetch(`${indexer.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(over);
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toEqual(refusal("Request body larger than 131072 bytes (API_MAX_BODY_BYTES).", "BODY_TOO_LARGE"));
    await expectHealthy();
  });

  test("overload is shed with a fast 503 and Retry-After; /health is never shed", async () => {
    const heavy = `{ contributions(limit: 1000) { totalCount items { id amount chama { name members { totalCount } } } } }`;
    let shed: Answer | undefined;
    let slowest = 0;
    // Bounded: a few bursts of 60 requests against 2 slots and 2 queue places.
    for (let burst = 0; burst < 5 && !shed; burst++) {
      const health = (async () => {
        const started = performance.now();
        const response = await fetch(`${indexer.url}/health`, { signal: AbortSignal.timeout(1_000) });
        return { status: response.status, ms: performance.now() - started };
      })();
      const answers = await Promise.all(
        Array.from({ length: 60 }, async () => {
          const started = performance.now();
          const answer = await post({ query: heavy, timeoutMs: 5_000 });
          slowest = Math.max(slowest, performance.now() - started);
          return answer;
        }),
      );
      const h = await health;
      expect(h.status).toBe(200);
      expect(h.ms).toBeLessThan(1_000);
      for (const answer of answers) expect([200, 503]).toContain(answer.status);
      shed = answers.find((a) => a.status === 503);
    }
    console.log(`${database}: slowest of the burst ${slowest.toFixed(0)} ms`);
    expect(shed?.headers.get("retry-after")).toBe("1");
    expect([
      refusal("Server busy: 2 requests running and 2 waiting (API_MAX_CONCURRENT_REQUESTS, API_MAX_QUEUED_REQUESTS). Retry after 1 s.", "OVERLOADED"),
      refusal("Server busy: no free slot within 500 ms (API_QUEUE_TIMEOUT_MS). Retry after 1 s.", "OVERLOADED"),
    ]).toContainEqual(shed?.body);
    expect(slowest).toBeLessThan(5_000);
    await expectHealthy();
  });

  test("CORS: listed origins may read without credentials, others may not, /reconcile never cross-origin", async () => {
    const evil = await post({ query: DATA, headers: { origin: "https://evil.example" } });
    expect(evil.status).toBe(200);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(evil.headers.get("access-control-allow-credentials")).toBeNull();

    const web = await post({ query: DATA, headers: { origin: "http://127.0.0.1:5173" } });
    expect(web.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
    expect(web.headers.get("access-control-allow-credentials")).toBeNull();

    const reconcile = await fetch(`${indexer.url}/reconcile`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, origin: "https://evil.example" },
    });
    expect(reconcile.status).toBe(403);
    expect(reconcile.headers.get("access-control-allow-origin")).toBeNull();
    expect(await reconcile.text()).toBe("/reconcile does not accept requests from other origins (got Origin: https://evil.example).");

    // Preflights: the web app's origin may send JSON to GraphQL; no other origin gets a grant,
    // and /reconcile grants none, with or without Authorization.
    const preflight = (path: string, origin: string, headers = "content-type") =>
      fetch(`${indexer.url}${path}`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers } });
    const granted = await preflight("/graphql", "http://127.0.0.1:5173");
    expect(granted.status).toBe(204);
    expect(granted.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
    expect(granted.headers.get("access-control-allow-credentials")).toBeNull();
    // A fetch-based client resuming the ledger's change stream sends Last-Event-ID.
    const resume = await preflight("/transactions/stream", "http://127.0.0.1:5173", "last-event-id");
    expect(resume.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
    expect(resume.headers.get("access-control-allow-headers")?.split(/,\s*/)).toContain("last-event-id");
    for (const [path, origin, headers] of [
      ["/graphql", "https://evil.example", "content-type"],
      ["/reconcile", "https://evil.example", "authorization"],
      ["/reconcile", "http://127.0.0.1:5173", "authorization"],
    ] as const) {
      const refused = await preflight(path, origin, headers);
      expect(refused.headers.get("access-control-allow-origin"), `${path} from ${origin}`).toBeNull();
      expect(refused.headers.get("access-control-allow-headers"), `${path} from ${origin}`).toBeNull();
    }
    await expectHealthy();
  });

  test("internal errors are masked; validation errors stay specific", async () => {
    // A cursor that decodes to something other than a row fragment.
    const cursor = Buffer.from(JSON.stringify({ json: null })).toString("base64");
    const crafted = await post({ query: `{ contributions(after: "${cursor}") { items { id } } }` });
    expect(crafted.status).toBe(200);
    expect(crafted.body).toEqual({
      errors: [{ message: "Internal error", locations: [{ line: 1, column: 3 }], path: ["contributions"], extensions: { code: "INTERNAL" } }],
      data: null,
    });

    const badField = await post({ query: `{ chamas { items { nope } } }` });
    expect(badField.status).toBe(400);
    expect(badField.body).toEqual({
      errors: [{ message: 'Cannot query field "nope" on type "chama". Did you mean "name"?', locations: [{ line: 1, column: 20 }], extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }],
    });

    const overPage = await post({ query: `{ contributions(limit: 5000) { items { id } } }` });
    expect((overPage.body.errors?.[0] as { message?: string } | undefined)?.message).toBe("Invalid limit. Got 5000, expected <=1000.");
    await expectHealthy();
  });

  test("PUT and DELETE answer 405 with Allow; a negative limit or offset is a 400 naming the argument", async () => {
    for (const method of ["PUT", "DELETE"]) {
      const response = await fetch(`${indexer.url}/graphql`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify({ query: DATA }) });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD, POST");
      expect(await response.json()).toEqual(
        refusal(`${method} is not allowed here: send GraphQL as POST (GET serves GraphiQL).`, "METHOD_NOT_ALLOWED"),
      );
    }

    const negative = await post({ query: `{ contributions(limit: -1) { items { id } } }` });
    expect(negative.status).toBe(400);
    expect(negative.body).toEqual(refusal('Argument "limit" must be between 0 and 1000, got -1.', "BAD_USER_INPUT"));

    const viaVariable = await post({ query: `query($n: Int) { contributions(offset: $n) { items { id } } }`, variables: { n: -5 } });
    expect(viaVariable.status).toBe(400);
    expect(viaVariable.body).toEqual(refusal('Argument "offset" must be 0 or more, got -5.', "BAD_USER_INPUT"));
    await expectHealthy();
  });
});

/** The indexer's resident memory, from Ponder's /metrics (prom-client's process gauges). */
async function residentBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^process_resident_memory_bytes (\d+)/m.exec(text);
  if (!match) throw new Error("/metrics has no process_resident_memory_bytes");
  return Number(match[1]);
}

/** POSTs up to `maxBytes` of JSON-ish bytes in 64 KiB chunks (chunked, or with a declared
 * Content-Length), stopping as soon as the server answers or closes; resolves with the answer
 * and how many bytes were written. */
function endlessPost(params: {
  url: string;
  maxBytes: number;
  declareLength?: boolean;
}): Promise<{ status?: number; body: string; sent: number; reset?: string }> {
  const chunk = Buffer.alloc(64 * 1024, "a");
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const request = http.request(params.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(params.declareLength ? { "content-length": String(params.maxBytes) } : {}) },
    });
    request.on("response", (response) => {
      answered = true;
      let body = "";
      response.on("data", (d: Buffer) => (body += d.toString()));
      response.on("end", () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body, sent });
      });
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (answered) return;
      if (error.code === "ECONNRESET" || error.code === "EPIPE") resolve({ body: "", sent, reset: error.code });
      else reject(error);
    });
    request.write('{"query":"{ chamas { items { id } } }","pad":"');
    const pump = () => {
      while (!answered && !request.destroyed && sent < params.maxBytes) {
        sent += chunk.length;
        if (!request.write(chunk)) {
          request.once("drain", pump);
          return;
        }
      }
      if (!answered && !request.destroyed) request.end('"}');
    };
    pump();
  });
}
