/**
 * The offline shell in React: the worker's state (swRegister.ts), and which views show an
 * answer that is not current (a saved copy, or the last answer kept after a failed read), so the
 * app can say how old what it shows is.
 */
import { useEffect, useId, useSyncExternalStore } from "react";
import { type ShellState, shellState, subscribeShell } from "../swRegister";

export function useShellState(): ShellState {
  return useSyncExternalStore(subscribeShell, shellState);
}

/** Mounted views showing an old answer, by view, with the time that answer was read. */
let shown: ReadonlyMap<string, number> = new Map();
const listeners = new Set<() => void>();

function setShown(next: ReadonlyMap<string, number>): void {
  shown = next;
  for (const listener of listeners) listener();
}

function oldestShown(): number | undefined {
  let oldest: number | undefined;
  for (const at of shown.values()) if (oldest === undefined || at < oldest) oldest = at;
  return oldest;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Declares that the calling view shows an answer read at `readAt` (ms since the epoch) that
 * is not current, for as long as it is mounted with that value; undefined: its answer is current. */
export function useShowsOldAnswer(readAt: number | undefined): void {
  const id = useId();
  useEffect(() => {
    if (readAt === undefined) return;
    setShown(new Map(shown).set(id, readAt));
    return () => {
      const next = new Map(shown);
      next.delete(id);
      setShown(next);
    };
  }, [id, readAt]);
}

/** The read time of the oldest old answer on screen, or undefined while every view is current. */
export function useOldestShownAnswer(): number | undefined {
  return useSyncExternalStore(subscribe, oldestShown);
}
