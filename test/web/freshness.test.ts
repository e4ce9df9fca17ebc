/** When an indexed view stops fetching (web/src/hooks/freshness.ts): only with an answer
 * requested after the newest known indexed block; news is fetched at once, failures back off. */
import { describe, expect, test } from "vitest";
import { RETRY_MAX_MS, RETRY_MIN_MS, knownBlockKey, refetchDelay } from "../../web/src/hooks/freshness";

const block = (number: bigint, timestamp = 1_000n + number) => knownBlockKey({ number, timestamp });
const answer = (requestedAt: string | undefined, extra: { fromCache?: boolean; error?: boolean } = {}) => ({
  requestedAt,
  fromCache: extra.fromCache ?? false,
  error: extra.error ?? false,
});

describe("freshness of an indexed view", () => {
  test("an answer requested after the known block is fresh", () => {
    expect(refetchDelay({ known: block(7n), answer: answer(block(7n)), attempt: 0 })).toBeUndefined();
    expect(refetchDelay({ known: undefined, answer: answer(undefined), attempt: 0 })).toBeUndefined();
  });

  test("an answer requested before the known block is refetched at once", () => {
    // The case urql produces when a refetch is asked for while the same query is in flight.
    expect(refetchDelay({ known: block(8n), answer: answer(block(7n)), attempt: 0 })).toBe(0);
    // The first answer of a page, requested before any block was known.
    expect(refetchDelay({ known: block(8n), answer: answer(undefined), attempt: 0 })).toBe(0);
  });

  test("a reorg is news: a lower block, or another block at the same height", () => {
    expect(refetchDelay({ known: block(5n), answer: answer(block(7n)), attempt: 0 })).toBe(0);
    expect(refetchDelay({ known: block(7n, 2_000n), answer: answer(block(7n, 1_999n)), attempt: 0 })).toBe(0);
  });

  test("an answer from the client's cache is never fresh", () => {
    expect(refetchDelay({ known: block(7n), answer: answer(block(7n), { fromCache: true }), attempt: 0 })).toBe(0);
  });

  test("errors and repeated misses back off, up to a ceiling", () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 10].map((attempt) =>
      refetchDelay({ known: block(7n), answer: answer(block(7n), { error: true }), attempt }),
    );
    expect(delays).toEqual([RETRY_MIN_MS, 500, 1_000, 2_000, 4_000, RETRY_MAX_MS, RETRY_MAX_MS, RETRY_MAX_MS]);
    expect(refetchDelay({ known: block(8n), answer: answer(block(7n)), attempt: 2 })).toBe(1_000);
  });
});
