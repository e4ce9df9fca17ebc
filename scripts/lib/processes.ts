import type { ChildProcess } from "node:child_process";

/** Resolves when the child has exited (at once if it already has). */
export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Sends SIGTERM, then SIGKILL if the child is still running after `graceMs`. */
/** Throws when `child` has exited: a `failFast` for waitFor, naming `what` the child is and
 * the end of its output. */
export function assertRunning(params: { child: ChildProcess; what: string; output?: () => string }): void {
  const { child, what, output } = params;
  if (child.exitCode === null && child.signalCode === null) return;
  const how = child.exitCode !== null ? `with code ${child.exitCode}` : `on ${child.signalCode}`;
  const tail = output ? `:\n${output().slice(-4000)}` : "";
  throw new Error(`${what} exited ${how}${tail}`);
}

export async function stopProcess(child: ChildProcess, params: { graceMs?: number } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitForExit(child);
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), params.graceMs ?? 10_000);
  await exited;
  clearTimeout(timer);
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`.
 * The error names `what` was awaited and the last failure seen. A failure of `check` counts as
 * "not yet"; one of `failFast` (called before each check, e.g. "the awaited process has
 * exited") ends the wait at once. */
export async function waitFor<T>(params: {
  what: string;
  check: () => Promise<T | undefined> | T | undefined;
  failFast?: () => void;
  timeoutMs?: number;
  intervalMs?: number;
}): Promise<T> {
  const { what, check, failFast, timeoutMs = 30_000, intervalMs = 50 } = params;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    failFast?.();
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : "";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
