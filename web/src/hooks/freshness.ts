/**
 * When an indexed view may stop fetching: only once it holds an answer that was requested after
 * the newest indexed block the app knows of.
 *
 * A block the app knows of is already committed (it came from the checkpoint stream or from an
 * earlier answer), so a request sent after learning it reads at least that block. Nothing else
 * about an answer vouches for it: its own `_meta` is read by a separate query and may be newer
 * than its rows; an answer from urql's cache may be older than the page; and urql answers a
 * refetch asked for while the same query is in flight with that earlier request's answer.
 */

/** The indexed block as the app knows it; number and timestamp, so a reorg to the same height
 * with a new block still counts as news. */
export type KnownBlock = { number: bigint; timestamp: bigint | undefined };

/** A comparable key for a known block (undefined: none known yet). */
export function knownBlockKey(block: KnownBlock | undefined): string | undefined {
  return block === undefined ? undefined : `${block.number}:${block.timestamp ?? ""}`;
}

export type ViewAnswer = {
  /** The known block's key when the request that produced this answer was sent. */
  requestedAt: string | undefined;
  /** The answer came from the client's cache, not from a request. */
  fromCache: boolean;
  /** The answer is an error. */
  error: boolean;
};

/** First and last delay between refetches that did not bring a fresh answer. */
export const RETRY_MIN_MS = 250;
export const RETRY_MAX_MS = 8_000;

/**
 * The delay before the view must fetch again, or undefined when its answer is fresh. `attempt`
 * counts the refetches already made without reaching a fresh answer: the first is sent at once
 * (a new block is news, not a failure), later ones and retries after errors back off.
 */
export function refetchDelay(params: { known: string | undefined; answer: ViewAnswer; attempt: number }): number | undefined {
  const { known, answer, attempt } = params;
  if (!answer.error && !answer.fromCache && answer.requestedAt === known) return undefined;
  if (attempt === 0 && !answer.error) return 0;
  return Math.min(RETRY_MIN_MS * 2 ** attempt, RETRY_MAX_MS);
}
