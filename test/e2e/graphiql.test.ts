/**
 * GraphiQL served by the API itself, against a real anvil and the real indexer (`ponder start`
 * on PostgreSQL) in Chromium with every request to a host other than 127.0.0.1 blocked and
 * recorded: GET /graphql loads the editor with no request leaving the machine and no CSP
 * violation, a query typed into it and run with the run button shows the indexed chamas, and
 * Ponder's own page (still what a GET that does not ask for HTML gets) fails the same check. Over
 * plain HTTP: the page's headers, the file list, and that no path outside it is served.
 */
import http from "node:http";
import { gunzipSync } from "node:zlib";
import { parse, print } from "graphql";
import type { BrowserContext, Page, Request, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SAT } from "../../common/chain";
import { waitFor } from "../../scripts/lib/processes";
import { accounts, type Chain, chamaAs, deploy, startChain } from "../_support/chain";
import { type Indexer, startIndexer } from "../_support/indexer";
import { launchBrowser, screenshotPath } from "./browser";

const NAMES = ["Graphiql Savers", "Offline Circle"];
const QUERY = `{ chamas { items { id name } } }`;

type Chamas = { chamas: { items: { id: string; name: string }[] } };

type RawAnswer = { status: number; headers: http.IncomingHttpHeaders; rawHeaders: string[]; bytes: Buffer; body: string };

/** A GET (or HEAD) sent as written (no URL normalisation by the client), with its status,
 * headers as parsed and as sent, and body. Node's parser refuses a malformed answer, such as
 * one with two Content-Length headers. */
function rawGet(params: { url: string; path: string; method?: "GET" | "HEAD"; headers?: Record<string, string> }): Promise<RawAnswer> {
  const { hostname, port } = new URL(params.url);
  const method = params.method ?? "GET";
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, method, path: params.path, headers: params.headers, timeout: 10_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, rawHeaders: response.rawHeaders, bytes, body: bytes.toString("utf8") });
      });
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`${method} ${params.path} timed out`)));
    request.on("error", reject);
    request.end();
  });
}

/** The values of every Content-Length header the answer carried, as sent. */
function contentLengths(answer: RawAnswer): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
    if (answer.rawHeaders[i]!.toLowerCase() === "content-length") values.push(answer.rawHeaders[i + 1]!);
  }
  return values;
}

/** Everything a page asked for: requests to other hosts (aborted) and to this machine. */
type Traffic = { foreign: string[]; local: string[]; posts: string[]; workers: string[]; errors: string[] };

/** Blocks and records every request to a host other than 127.0.0.1, for the whole context
 * (pages and their workers), and records CSP violations and page errors. */
async function watchTraffic(context: BrowserContext, page: Page): Promise<{ traffic: Traffic; stop: () => Promise<void> }> {
  const traffic: Traffic = { foreign: [], local: [], posts: [], workers: [], errors: [] };
  const isLocal = (url: string) => {
    const { protocol, hostname } = new URL(url);
    return protocol === "data:" || protocol === "blob:" || hostname === "127.0.0.1";
  };
  const block = async (route: Route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    traffic.foreign.push(url);
    return route.abort("blockedbyclient");
  };
  await context.route("**/*", block);
  // A request that bypassed routing would still show here.
  const record = (request: Request) => {
    const url = request.url();
    if (isLocal(url)) {
      traffic.local.push(`${request.method()} ${new URL(url).pathname}`);
      if (request.method() === "POST") traffic.posts.push(request.postData() ?? "");
    } else if (!traffic.foreign.includes(url)) traffic.foreign.push(url);
  };
  context.on("request", record);
  page.on("worker", (worker) => traffic.workers.push(new URL(worker.url()).pathname));
  page.on("pageerror", (error) => traffic.errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") traffic.errors.push(`console: ${message.text()}`);
  });
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { __csp: string[] }).__csp = violations;
    document.addEventListener("securitypolicyviolation", (event) => violations.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  const stop = async () => {
    context.off("request", record);
    await context.unroute("**/*", block);
  };
  return { traffic, stop };
}

/** The text of a Monaco editor in GraphiQL (its lines, in order; Monaco writes spaces as U+00A0). */
function editorText(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (root) =>
    Array.from(root.querySelectorAll(".view-line"))
      .map((line) => ({ top: parseFloat((line as HTMLElement).style.top || "0"), text: line.textContent ?? "" }))
      .sort((a, b) => a.top - b.top)
      .map((line) => line.text.replace(/\u00a0/g, " "))
      .join("\n"),
  );
}

describe("GraphiQL served by the API", () => {
  let chain: Chain;
  let indexer: Indexer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let indexed: Chamas;

  beforeAll(async () => {
    browser = await launchBrowser();
    chain = await startChain();
    const deployment = await deploy(chain);
    const admin = chamaAs({ chain, address: deployment.address, account: accounts[0]! });
    for (const name of NAMES) await admin.createChama(name, SAT);
    await chamaAs({ chain, address: deployment.address, account: accounts[1]! }).contribute(1n, 3n * SAT);
    indexer = await startIndexer({ chain, address: deployment.address, startBlock: deployment.startBlock, database: "postgres" });
    await indexer.waitForBlock();
    indexed = await waitFor({
      what: "both chamas indexed",
      check: async () => {
        const { data } = await indexer.graphql<Chamas>(QUERY);
        return data && data.chamas.items.length === NAMES.length ? data : undefined;
      },
      timeoutMs: 60_000,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await indexer?.stop();
    await chain?.stop();
  });

  test("loads with every non-local request blocked, none attempted, and runs a typed query", async () => {
    const page = await browser.context.newPage();
    const { traffic, stop } = await watchTraffic(browser.context, page);
    const started = Date.now();
    const response = await page.goto(`${indexer.url}/graphql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    // The editors are up once Monaco has rendered the query editor's lines.
    await page.locator(".graphiql-query-editor .view-lines").waitFor({ timeout: 30_000 });
    const loadedMs = Date.now() - started;

    // Type the query over the default one, then run it with the run button.
    await page.locator(".graphiql-query-editor .monaco-editor").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(QUERY);
    await expect.poll(() => editorText(page, ".graphiql-query-editor")).toBe(QUERY);
    const posted = page.waitForRequest((request) => request.method() === "POST" && new URL(request.url()).pathname === "/graphql" && (request.postData() ?? "").includes("chamas"));
    await page.getByRole("button", { name: /execute query/i }).click();
    const request = await posted;
    // GraphiQL sends the query as typed less its insignificant whitespace: the same document.
    const sent = JSON.parse(request.postData() ?? "{}") as { query?: unknown };
    expect(typeof sent.query).toBe("string");
    expect(print(parse(sent.query as string))).toBe(print(parse(QUERY)));

    // The result pane shows what the indexer holds, as JSON.
    await expect.poll(() => editorText(page, ".graphiql-response"), { timeout: 30_000 }).toContain(NAMES[1]);
    const shown = JSON.parse(await editorText(page, ".graphiql-response")) as { data: Chamas };
    expect(shown.data).toEqual(indexed);
    expect(shown.data.chamas.items.map((c) => c.name).sort()).toEqual([...NAMES].sort());

    await page.screenshot({ path: screenshotPath("graphiql-1280") });

    // The docs come from the served schema (schema.json), with no introspection sent.
    await page.getByRole("button", { name: /show documentation explorer/i }).click();
    await page.locator(".graphiql-doc-explorer").getByText("Query", { exact: true }).first().waitFor({ timeout: 10_000 });
    expect(traffic.posts.some((body) => body.includes("__schema"))).toBe(false);

    // Nothing left the machine, not even as an attempt; everything came from the API's own
    // files, Monaco's workers included; the CSP held.
    expect(traffic.foreign).toEqual([]);
    expect(traffic.local.filter((r) => r.startsWith("GET /graphiql/")).map((r) => r.split("/").pop()).sort()).toEqual(
      expect.arrayContaining(["yoga-graphiql.js", "graphiql.css", "start.js", "page.css", "editor.worker.js", "graphql.worker.js"]),
    );
    expect(traffic.workers.map((w) => w.split("/").pop())).toEqual(expect.arrayContaining(["editor.worker.js", "graphql.worker.js"]));
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    expect(traffic.errors).toEqual([]);
    console.log(`GraphiQL editor up in ${loadedMs} ms with ${traffic.local.length} local requests and 0 to other hosts`);
    await stop();
    await page.close();
  });

  test("Ponder's own page fails that check: it asks a CDN for its files and stays on Loading...", async () => {
    // Still what a GET that does not ask for HTML gets, as before.
    const old = await rawGet({ url: indexer.url, path: "/graphql", headers: { accept: "*/*" } });
    expect(old.status).toBe(200);
    expect(old.body).toContain("Ponder Playground");

    const page = await browser.context.newPage();
    const { traffic, stop } = await watchTraffic(browser.context, page);
    await page.route(`${indexer.url}/ponder-graphiql`, (route) => route.fulfill({ status: 200, contentType: "text/html", body: old.body }));
    const failed = page.waitForEvent("pageerror", { timeout: 30_000 });
    await page.goto(`${indexer.url}/ponder-graphiql`);
    expect((await failed).message).toMatch(/GraphiQL is not defined/);
    expect(traffic.foreign.length).toBeGreaterThanOrEqual(6);
    expect(traffic.foreign.every((url) => url.startsWith("https://cdn.jsdelivr.net/"))).toBe(true);
    expect(await page.locator("#graphiql").textContent()).toBe("Loading...");
    expect(await page.locator(".graphiql-container").count()).toBe(0);
    await stop();
    await page.close();
  });

  test("over HTTP: the page's CSP and caching, the listed files, and a 404 for every other path", async () => {
    const pageAnswer = await rawGet({ url: indexer.url, path: "/graphql", headers: { accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8" } });
    expect(pageAnswer.status).toBe(200);
    expect(contentLengths(pageAnswer)).toEqual([String(pageAnswer.bytes.byteLength)]);
    expect(pageAnswer.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(pageAnswer.headers["content-security-policy"] ?? "");
    const directives = Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name = "", ...values]) => [name, values.join(" ")]));
    expect(directives).toMatchObject({
      "default-src": "'none'",
      "script-src": "'self'",
      "worker-src": "'self'",
      "connect-src": "'self'",
      "style-src": "'self' 'unsafe-inline'",
      "font-src": "'self' data:",
    });
    expect(pageAnswer.headers["cache-control"]).toBe("no-cache");
    expect(pageAnswer.headers.vary).toMatch(/\bAccept\b/);
    // The page itself has no inline script and names no other host.
    expect(pageAnswer.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(pageAnswer.body).not.toMatch(/https?:\/\//);

    const revalidated = await rawGet({ url: indexer.url, path: "/graphql", headers: { accept: "text/html", "if-none-match": String(pageAnswer.headers.etag) } });
    expect(revalidated.status).toBe(304);

    // The same page at /, the API's other GraphQL path.
    expect((await rawGet({ url: indexer.url, path: "/", headers: { accept: "text/html" } })).body).toBe(pageAnswer.body);

    const base = /href="graphiql\/([^/"]+)\/graphiql\.css"/.exec(pageAnswer.body)?.[1];
    expect(base).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{10}$/);
    for (const name of ["yoga-graphiql.js", "graphiql.css", "editor.worker.js", "json.worker.js", "graphql.worker.js", "start.js", "page.css"]) {
      const file = await rawGet({ url: indexer.url, path: `/graphiql/${base}/${name}` });
      expect(file.status, name).toBe(200);
      expect(file.headers["content-type"], name).toMatch(name.endsWith(".css") ? /^text\/css/ : /^text\/javascript/);
      expect(file.headers["cache-control"], name).toBe("public, max-age=31536000, immutable");
      expect(file.headers["content-security-policy"], name).toBe(csp);
      expect(file.headers["x-content-type-options"], name).toBe("nosniff");
      // One Content-Length, the body's own size (a second one is a malformed answer).
      expect(contentLengths(file), name).toEqual([String(file.bytes.byteLength)]);
    }
    const schemaFile = await rawGet({ url: indexer.url, path: `/graphiql/${base}/schema.json` });
    expect(schemaFile.status).toBe(200);
    expect(schemaFile.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(schemaFile.headers["cache-control"]).toBe("no-cache");
    const types = (JSON.parse(schemaFile.body) as { __schema: { types: { name: string }[] } }).__schema.types.map((t) => t.name);
    expect(types).toEqual(expect.arrayContaining(["Query", "chama", "contribution", "chamaPage"]));
    // Introspection from a client is still held to the public depth limit.
    const introspection = await indexer.graphql(`{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }`);
    expect(JSON.stringify(introspection.errors)).toContain("Query depth limit of 8 exceeded");

    // Gzipped on request: one Content-Length, the compressed size, and the same bytes inside.
    const plain = await rawGet({ url: indexer.url, path: `/graphiql/${base}/yoga-graphiql.js` });
    const zipped = await rawGet({ url: indexer.url, path: `/graphiql/${base}/yoga-graphiql.js`, headers: { "accept-encoding": "gzip" } });
    expect(zipped.status).toBe(200);
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(contentLengths(zipped)).toEqual([String(zipped.bytes.byteLength)]);
    expect(zipped.bytes.byteLength).toBeLessThan(plain.bytes.byteLength / 2);
    expect(gunzipSync(zipped.bytes).equals(plain.bytes)).toBe(true);
    // HEAD: the size, once, and no body.
    const head = await rawGet({ url: indexer.url, path: `/graphiql/${base}/yoga-graphiql.js`, method: "HEAD", headers: { "accept-encoding": "gzip" } });
    expect(head.status).toBe(200);
    expect(contentLengths(head)).toEqual([String(zipped.bytes.byteLength)]);
    expect(head.bytes.byteLength).toBe(0);

    const outside = [
      "/graphiql/../../package.json",
      "/graphiql/%2e%2e/%2e%2e/package.json",
      "/graphiql/%2E%2E%2F%2E%2E%2Fpackage.json",
      "/graphiql/..%2f..%2fpackage.json",
      "/graphiql/%252e%252e%252fpackage.json",
      `/graphiql/${base}/../../package.json`,
      `/graphiql/${base}/..%2f..%2f..%2fpackage.json`,
      `/graphiql/${base}/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json`,
      `/graphiql/${base}/..\\..\\package.json`,
      `/graphiql/${base}/package.json`,
      `/graphiql/${base}/dist/yoga-graphiql.es.js`,
      `/graphiql/${base}/monacoeditorwork/editor.worker.bundle.js`,
      `/graphiql/${base}/start.js%00.json`,
      `/graphiql/${base}//etc/passwd`,
      `/graphiql/${base}/`,
      "/graphiql/0.0.0-0000000000/start.js",
      "/graphiql/",
    ];
    for (const path of outside) {
      const answer = await rawGet({ url: indexer.url, path });
      expect(answer.status, path).toBe(404);
      expect(answer.body, path).not.toContain('"name"');
      expect(answer.body, path).not.toContain("root:");
    }
  });
});
