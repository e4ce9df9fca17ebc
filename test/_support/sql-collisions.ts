/**
 * Finds SQL texts whose sha256 share their first 10 hex digits (40 bits), the key Ponder
 * 0.16.10 used for its SQL verdict caches: a harmless `SELECT <n>` and a variant of another
 * query that differs only in a trailing comment. Fresh pairs every run, in seconds.
 */
import { createHash } from "node:crypto";

const prefix = (text: string) => Number.parseInt(createHash("sha256").update(text).digest("hex").slice(0, 10), 16);

export type Collider = {
  /** A `SELECT <n>` whose 40-bit key equals that of `other` with a comment appended. */
  collide: (other: string) => { select: string; other: string };
};

/** Indexes `2^bits` SELECTs once; each `collide` then takes about 2^(40 - bits) hashes. */
export function createCollider(bits = 21): Collider {
  const selects = new Map<number, number>();
  for (let n = 0; n < 2 ** bits; n++) selects.set(prefix(`SELECT ${n}`), n);
  return {
    collide(other) {
      for (let m = 0; m < 2 ** 28; m++) {
        const variant = `${other} /*${m}*/`;
        const n = selects.get(prefix(variant));
        if (n !== undefined) return { select: `SELECT ${n}`, other: variant };
      }
      throw new Error(`no collision found for ${other}`);
    },
  };
}

/** True when the two texts share Ponder 0.16.10's cache key. */
export const sameCacheKey = (a: string, b: string) => prefix(a) === prefix(b);
