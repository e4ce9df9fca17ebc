/**
 * GraphiQL served by the API itself, so that it works with no internet (on a plane, behind a
 * firewall, on a machine that reaches only a package registry). Ponder's own page loads React,
 * GraphiQL and their styles from a public CDN and never gets past "Loading..." without one.
 *
 * - `graphiqlPage`: GET /graphql (and /) from a client that asks for HTML, as a browser does,
 *   gets a small page whose every script, stylesheet, font and worker comes from this server.
 *   Any other request (POST, a GET that does not ask for HTML) goes on to GraphQL as before.
 * - `graphiqlAssets`: the files under /graphiql/<id>/, from the prebuilt `@graphql-yoga/graphiql`
 *   package (React, GraphiQL and the Monaco editor in one script, its stylesheet with the fonts
 *   inlined, Monaco's three workers) and this module's own start script and stylesheet. Only the
 *   names in a fixed list are served, each mapped to one file: a request path is never joined to
 *   a directory, so nothing else under node_modules (or anywhere) can be reached.
 *
 * Every answer carries `GRAPHIQL_CSP`. `<id>` changes with the package's version and with this
 * module's own files, so the files are cached for a year and the page is revalidated each time.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { getIntrospectionQuery } from "graphql";
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { JengaError } from "../../common/errors";

const gzipAsync = promisify(gzip);

/**
 * What the page may load: everything from this server only. Two exceptions, both without a
 * request: `data:` fonts and images (the stylesheet inlines its fonts and a few icons), and
 * inline styles, because the Monaco editor writes its theme and decorations into `<style>`
 * elements and positions its lines with `style` attributes at run time. Scripts are 'self' only:
 * no inline script and no eval.
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The package's files that are served, by the name they have under /graphiql/<id>/. */
const PACKAGE_FILES = {
  "yoga-graphiql.js": { file: "dist/yoga-graphiql.umd.js", type: "text/javascript; charset=utf-8" },
  "graphiql.css": { file: "dist/graphiql.css", type: "text/css; charset=utf-8" },
  "editor.worker.js": { file: "dist/monacoeditorwork/editor.worker.bundle.js", type: "text/javascript; charset=utf-8" },
  "json.worker.js": { file: "dist/monacoeditorwork/json.worker.bundle.js", type: "text/javascript; charset=utf-8" },
  "graphql.worker.js": { file: "dist/monacoeditorwork/graphql.worker..bundle.js", type: "text/javascript; charset=utf-8" },
} as const;

/** The query the editor opens with (until the person's own is kept by the browser). */
const DEFAULT_QUERY = `# Jenga Index: the indexed Chama contract. Ctrl-Enter (or the run button) runs a query;
# Ctrl-Space completes; the Docs button lists every type. Amounts are bigints, as strings.
{
  chamas(orderBy: "totalContributed", orderDirection: "desc", limit: 5) {
    items { id name balance memberCount contributionCount }
    totalCount
  }
  _meta { status }
}
`;

/** Sets up Monaco's workers (same origin, from the list above) and renders GraphiQL, whose
 * fetcher POSTs to the URL the page was served at. Served as a file: the CSP allows no inline
 * script. */
const START_JS = `"use strict";
(() => {
  const assets = new URL(".", document.currentScript.src);
  const workers = { editorWorkerService: "editor.worker.js", json: "json.worker.js", graphql: "graphql.worker.js" };
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: (_moduleId, label) => new URL(workers[label] || workers.editorWorkerService, assets).href,
  };
  const root = document.getElementById("graphiql");
  if (typeof YogaGraphiQL === "undefined") {
    root.textContent = "GraphiQL's script did not load from this server. POST GraphQL to " + location.pathname + " instead.";
    return;
  }
  const render = (schema) => {
    root.textContent = "";
    YogaGraphiQL.renderYogaGraphiQL(root, {
      endpoint: location.pathname,
      title: "Jenga Index GraphiQL",
      // A query in the address (GraphiQL keeps the one being edited there) wins over the default.
      query: new URL(location.href).searchParams.get("query") || ${JSON.stringify(DEFAULT_QUERY)},
      // The served schema, for the docs and completion; without it GraphiQL introspects, which
      // the API's depth limit refuses.
      ...(schema ? { schema } : {}),
    });
  };
  fetch(new URL("schema.json", assets))
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error("schema.json: HTTP " + response.status))))
    .then(render, (error) => {
      console.warn("GraphiQL runs without the schema (no docs or completion):", error);
      render(undefined);
    });
})();
`;

const PAGE_CSS = `html, body, #graphiql { height: 100%; margin: 0; }
.graphiql-loading { font: 16px/1.5 system-ui, sans-serif; padding: 24px; }
`;

/** Thrown at start-up when the package's files are missing (an incomplete `npm install`). */
export class GraphiQLMissingError extends JengaError {
  override name = "GraphiQLMissingError";
  override readonly expected = true;
}

type Asset = { type: string; read: () => Promise<Buffer>; cacheControl: string };

/** The files' own cache policy: their URL changes with their content. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/** One file's bytes and their gzip, read on first use and kept (about 10 MB, 2.5 MB gzipped). */
type Loaded = { body: Buffer; gzipped: Buffer; etag: string };

function packageRoot(): { root: string; version: string } {
  const require = createRequire(import.meta.url);
  let manifestPath: string;
  try {
    manifestPath = require.resolve("@graphql-yoga/graphiql/package.json");
  } catch (cause) {
    throw new GraphiQLMissingError("GraphiQL's files are missing: @graphql-yoga/graphiql is not in node_modules. Run `npm install`.", { cause });
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { version?: unknown };
  if (typeof manifest.version !== "string") throw new GraphiQLMissingError(`${manifestPath} has no version.`);
  return { root: path.dirname(manifestPath), version: manifest.version };
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** True when the client lists text/html in Accept (with a q above 0), as a browser's navigation does. */
export function acceptsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((part) => {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (type !== "text/html") return false;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export type GraphiQL = {
  /** Serves /graphiql/<id>/<name> for the listed names; anything else under /graphiql/ is a 404. */
  assets: Hono;
  /** For GET /graphql and GET /: the page to a client that asks for HTML, else next(). */
  page: MiddlewareHandler;
  /** Where the files are served, e.g. "/graphiql/4.5.0-1a2b3c4d5e/". */
  assetPath: string;
};

export type CreateGraphiQLParameters = {
  /** The schema's introspection (`{ __schema }` as JSON), given to the page as schema.json. */
  introspect: () => Promise<string>;
};

/** Builds GraphiQL's page and file routes from the installed package (checked here, at start-up). */
export function createGraphiQL(params: CreateGraphiQLParameters): GraphiQL {
  const { root, version } = packageRoot();
  const assets = new Map<string, Asset>();
  for (const [name, { file, type }] of Object.entries(PACKAGE_FILES)) {
    const full = path.join(root, file);
    assets.set(name, { type, read: () => readFile(full), cacheControl: IMMUTABLE });
  }
  assets.set("start.js", { type: "text/javascript; charset=utf-8", read: async () => Buffer.from(START_JS), cacheControl: IMMUTABLE });
  assets.set("page.css", { type: "text/css; charset=utf-8", read: async () => Buffer.from(PAGE_CSS), cacheControl: IMMUTABLE });
  // The schema is the running API's (a new one after a schema change): revalidated each time.
  assets.set("schema.json", { type: "application/json; charset=utf-8", read: async () => Buffer.from(await params.introspect()), cacheControl: "no-cache" });

  const id = `${version}-${sha256(`${START_JS}\n${PAGE_CSS}`).slice(0, 10)}`;
  const assetPath = `/graphiql/${id}/`;
  // Relative URLs: the page is served at /graphql and at /, and behind a proxy that mounts the
  // API under a prefix they still resolve to this server's files.
  const relative = `graphiql/${id}/`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jenga Index · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${relative}graphiql.css">
<link rel="stylesheet" href="${relative}page.css">
<script defer src="${relative}yoga-graphiql.js"></script>
<script defer src="${relative}start.js"></script>
</head>
<body>
<div id="graphiql"><p class="graphiql-loading">Loading GraphiQL…</p></div>
<noscript><p class="graphiql-loading">GraphiQL needs JavaScript. Without it, POST GraphQL to this URL as JSON.</p></noscript>
</body>
</html>
`;
  const page: Loaded = { body: Buffer.from(html), gzipped: Buffer.alloc(0), etag: `"${sha256(html).slice(0, 16)}"` };

  const loaded = new Map<string, Promise<Loaded>>();
  const load = (name: string, asset: Asset): Promise<Loaded> => {
    let known = loaded.get(name);
    if (!known) {
      known = asset.read().then(async (body) => ({ body, gzipped: await gzipAsync(body), etag: `"${sha256(body).slice(0, 16)}"` }));
      // A failed read (a file removed under a running server) is tried again next time.
      known.catch(() => loaded.delete(name));
      loaded.set(name, known);
    }
    return known;
  };

  const answer = (c: Context, params: { file: Loaded; type: string; cacheControl: string; vary: string }): Response => {
    const headers = new Headers({
      "content-type": params.type,
      "cache-control": params.cacheControl,
      "content-security-policy": GRAPHIQL_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      etag: params.file.etag,
      vary: params.vary,
    });
    const match = c.req.header("if-none-match");
    if (match !== undefined && match.split(",").some((tag) => tag.trim().replace(/^W\//, "") === params.file.etag)) {
      return new Response(null, { status: 304, headers });
    }
    const gzipped = params.file.gzipped.byteLength > 0 && /\bgzip\b/i.test(c.req.header("accept-encoding") ?? "");
    if (gzipped) headers.set("content-encoding", "gzip");
    const body = gzipped ? params.file.gzipped : params.file.body;
    // The server under Ponder (@hono/node-server) sets Content-Length itself for a body given
    // as bytes, and adds its own next to one set here: two Content-Length headers, which a
    // strict client (Node's own) refuses as a malformed answer. So it is set here only for HEAD,
    // which has no body for the server to measure.
    if (c.req.method === "HEAD") {
      headers.set("content-length", String(body.byteLength));
      return new Response(null, { status: 200, headers });
    }
    return new Response(new Uint8Array(body), { status: 200, headers });
  };

  const app = new Hono();
  app.get("/graphiql/*", async (c) => {
    const rest = c.req.path.slice("/graphiql/".length);
    const slash = rest.indexOf("/");
    const asset = slash > 0 && rest.slice(0, slash) === id ? assets.get(rest.slice(slash + 1)) : undefined;
    if (!asset) return c.text("Not found.", 404, { "content-security-policy": GRAPHIQL_CSP, "x-content-type-options": "nosniff" });
    const file = await load(rest.slice(slash + 1), asset);
    return answer(c, { file, type: asset.type, cacheControl: asset.cacheControl, vary: "Accept-Encoding" });
  });

  const pageMiddleware: MiddlewareHandler = async (c, next) => {
    if ((c.req.method !== "GET" && c.req.method !== "HEAD") || !acceptsHtml(c.req.header("accept"))) return next();
    return answer(c, { file: page, type: "text/html; charset=utf-8", cacheControl: "no-cache", vary: "Accept" });
  };

  return { assets: app, page: pageMiddleware, assetPath };
}

/** The introspection could not be computed (the schema's own GraphQL answered with errors). */
export class IntrospectionError extends JengaError {
  override name = "IntrospectionError";
}

/**
 * The schema's introspection, answered by `middleware` (a GraphQL middleware over the served
 * schema, with a depth limit the introspection query fits in) to the one fixed introspection
 * query, never to a client's query. GraphiQL's own introspection is deeper than the public
 * limit (depth 8), so the page is handed this answer instead of asking for it.
 */
export function introspectionFrom(middleware: MiddlewareHandler): () => Promise<string> {
  const app = new Hono().use("/", middleware);
  const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true });
  return async () => {
    const response = await app.request("/", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    let answer: { data?: unknown; errors?: unknown };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch (cause) {
      throw new IntrospectionError(`The schema's introspection was not JSON (HTTP ${response.status}): ${text.slice(0, 200)}`, { cause });
    }
    if (answer.errors !== undefined || answer.data === undefined || answer.data === null) {
      throw new IntrospectionError(`The schema's introspection failed: ${JSON.stringify(answer.errors ?? answer).slice(0, 500)}`);
    }
    return JSON.stringify(answer.data);
  };
}
