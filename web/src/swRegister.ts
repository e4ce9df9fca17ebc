/**
 * The page's side of the offline shell (the worker is sw.ts, built into dist/sw.js): registers
 * the worker in a production build, follows whether it controls the page, and hands a new
 * version to the page when the user asks for it.
 *
 * Updates: the browser looks for a changed sw.js on every navigation (and at least daily). A
 * new deploy's worker installs its own shell cache beside the running one and then waits, so an
 * open page never mixes two versions' files; the page says "a new version is ready" and its
 * Reload button tells the waiting worker to take over. Every open tab that ran the old version
 * then reloads onto the new one, whose worker deletes the old shell cache. With every tab closed,
 * the next visit gets the new version without asking.
 *
 * In `vite` dev there is no worker: one left on the dev origin by an earlier build is
 * unregistered, so dev always serves the files on disk.
 */

/** What the page knows of its worker. */
export type ShellState =
  /** No worker: a dev server, a browser without service workers, or an insecure origin. */
  | { kind: "off"; reason: string }
  | { kind: "registering" }
  /** Registered. `controlled`: the worker serves this page, so a reload opens offline. */
  | { kind: "registered"; controlled: boolean; updateReady: boolean }
  | { kind: "failed"; error: string };

let state: ShellState = { kind: "registering" };
const listeners = new Set<() => void>();
let waiting: ServiceWorker | undefined;

function setState(next: ShellState): void {
  state = next;
  for (const listener of listeners) listener();
}

export function shellState(): ShellState {
  return state;
}

export function subscribeShell(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The message a waiting worker takes over on (sw.ts). */
export const SKIP_WAITING = "jenga:skip-waiting";

function registered(patch: { controlled?: boolean; updateReady?: boolean }): void {
  const current = state.kind === "registered" ? state : { controlled: false, updateReady: false };
  setState({ kind: "registered", controlled: patch.controlled ?? current.controlled, updateReady: patch.updateReady ?? current.updateReady });
}

/** A new version installed while this page runs the old one: offer it. */
function offer(worker: ServiceWorker): void {
  waiting = worker;
  registered({ updateReady: true });
}

/** Registers `${base}sw.js` (production builds), or unregisters a leftover worker (dev). */
export function startShell(params: { production: boolean; base: string }): void {
  const container = "serviceWorker" in navigator ? navigator.serviceWorker : undefined;
  if (!container) {
    setState({ kind: "off", reason: "this browser has no service workers" });
    return;
  }
  if (!params.production) {
    setState({ kind: "off", reason: "dev server: no offline shell" });
    void container.getRegistrations().then((all) => Promise.all(all.map((r) => r.unregister())));
    return;
  }
  if (!window.isSecureContext) {
    setState({ kind: "off", reason: "service workers need https or localhost" });
    return;
  }
  // A page that had a worker when it loaded and sees another take over is running an old
  // version: it reloads onto the new one. The first worker's claim is no reason to reload.
  const hadController = container.controller !== null;
  container.addEventListener("controllerchange", () => {
    if (hadController) window.location.reload();
    else registered({ controlled: true });
  });
  container
    .register(`${params.base}sw.js`, { scope: params.base })
    .then((registration) => {
      registered({ controlled: container.controller !== null });
      // A new worker installed (or installing) before this page registered is followed too.
      const follow = (worker: ServiceWorker) =>
        worker.addEventListener("statechange", () => {
          if (worker.state === "installed" && container.controller) offer(worker);
        });
      if (registration.waiting && container.controller) offer(registration.waiting);
      else if (registration.installing) follow(registration.installing);
      registration.addEventListener("updatefound", () => {
        if (registration.installing) follow(registration.installing);
      });
    })
    .catch((error: unknown) => setState({ kind: "failed", error: error instanceof Error ? error.message : String(error) }));
}

/** The user asked for the new version: the waiting worker takes over and the tabs reload. */
export function applyShellUpdate(): void {
  waiting?.postMessage({ type: SKIP_WAITING });
}
