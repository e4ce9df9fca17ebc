/**
 * An in-process lock, for tests, benchmarks and browsers without Web Locks.
 */
import type { LockFn } from "./ports";

/** An in-process lock: one holder per name at a time, in call order. */
export function memoryLock(): LockFn {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(name: string, fn: () => Promise<T>) => {
    const previous = tails.get(name) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    tails.set(name, tail);
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
    return result;
  };
}
