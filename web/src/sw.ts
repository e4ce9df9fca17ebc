/**
 * The offline shell's service worker, compiled into dist/sw.js by vite.config.ts's
 * `offlineShell` plugin (never in `vite` dev). It imports nothing: the build fills in the
 * version and the file list.
 *
 * - Install: every file of the build (HTML, JS, CSS, favicon, ...) into `jenga-shell-<version>`,
 *   the version being a hash of those files, so any change to the app is a new cache.
 * - Fetch: only GET requests to the app's own origin. A page load gets the shell's index.html
 *   (the app uses hash routes, so every page is that file); a shell file comes from the cache;
 *   anything else goes to the network untouched. Requests to other origins (the API, the chain's
 *   RPC) are never touched: no POST (the relay's POST /transactions, GraphQL) is ever answered
 *   or kept here. The app keeps its last answers itself (savedAnswers.ts) and labels them.
 * - Update: a new version installs beside the running one and waits until the page asks
 *   (swRegister.ts) or every tab of the old one is closed; on activation it deletes every older
 *   `jenga-shell-*` cache and takes over the open pages.
 */

// Filled in by the build (vite.config.ts).
declare const __SHELL_VERSION__: string;
declare const __SHELL_FILES__: readonly string[];

/** The few parts of the service worker's global scope used here (the DOM library that the
 * project's TypeScript uses has no WebWorker types). */
type ExtendableEvent = Event & { waitUntil: (promise: Promise<unknown>) => void };
type FetchEvent = ExtendableEvent & { request: Request; respondWith: (response: Promise<Response>) => void };
type MessageEvent = ExtendableEvent & { data: unknown };
type WorkerScope = {
  location: { origin: string };
  registration: { scope: string };
  clients: { claim: () => Promise<void> };
  skipWaiting: () => Promise<void>;
  addEventListener: ((type: "install" | "activate", listener: (event: ExtendableEvent) => void) => void) &
    ((type: "fetch", listener: (event: FetchEvent) => void) => void) &
    ((type: "message", listener: (event: MessageEvent) => void) => void);
};

const worker = self as unknown as WorkerScope;
const SHELL_PREFIX = "jenga-shell-";
const SHELL_CACHE = `${SHELL_PREFIX}${__SHELL_VERSION__}`;
/** The message swRegister.ts sends when the user takes the new version. */
const SKIP_WAITING = "jenga:skip-waiting";

const scope = new URL(worker.registration.scope);
const shellUrls = new Set(__SHELL_FILES__.map((file) => new URL(file, scope).href));
const indexUrl = new URL("index.html", scope).href;

worker.addEventListener("install", (event) => {
  // `reload`: past the HTTP cache, so the cache holds exactly this build's files.
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll([...shellUrls].map((url) => new Request(url, { cache: "reload" })))),
  );
});

worker.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE) await caches.delete(name);
      }
      await worker.clients.claim();
    })(),
  );
});

worker.addEventListener("message", (event) => {
  const data = event.data;
  if (typeof data === "object" && data !== null && "type" in data && data.type === SKIP_WAITING) void worker.skipWaiting();
});

/** The shell's copy of `url`, else the network's answer (the cache was evicted, or a file
 * outside the list). */
async function fromShell(request: Request, url: string): Promise<Response> {
  const cached = await caches.open(SHELL_CACHE).then((cache) => cache.match(url));
  return cached ?? fetch(request);
}

worker.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== worker.location.origin) return;
  if (request.mode === "navigate" && url.href.startsWith(scope.href)) {
    event.respondWith(fromShell(request, indexUrl));
    return;
  }
  url.hash = "";
  if (shellUrls.has(url.href)) event.respondWith(fromShell(request, url.href));
});
export {};
