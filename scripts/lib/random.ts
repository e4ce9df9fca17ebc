/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence. */
export function createRandom(seed: number) {
  let a = seed >>> 0;
  /** A float in [0, 1). */
  const float = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    float,
    /** An integer in [0, max). */
    int: (max: number) => Math.floor(float() * max),
    /** An integer in [min, max]. */
    between: (min: number, max: number) => min + Math.floor(float() * (max - min + 1)),
    /** True with probability p. */
    chance: (p: number) => float() < p,
    /** One element of a non-empty list. */
    pick: <T>(items: readonly T[]): T => items[Math.floor(float() * items.length)]!,
  };
}

export type Random = ReturnType<typeof createRandom>;
