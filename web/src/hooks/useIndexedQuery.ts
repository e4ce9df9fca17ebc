/** A urql query that follows the index: while mounted it holds the indexer's live stream (one
 * per tab, shared), fetches again until it holds an answer requested after the newest indexed
 * block the sync engine knows of (see freshness.ts), and feeds what its answers say (the
 * indexed block, whether the indexer answered) back to the engine's health. */
import { useEffect, useMemo, useRef, useState } from "react";
import { type AnyVariables, type DocumentInput, type OperationContext, useQuery } from "urql";
import { useApp } from "../appContext";
import type { Meta } from "../queries";
import { useHealth, useSync } from "../sync/react";
import { knownBlockKey, refetchDelay } from "./freshness";
import { useIndexWatch } from "./useIndexWatch";
import { savedAtOf } from "../savedAnswers";
import { useShowsOldAnswer } from "./useOfflineShell";

/** The operation context field carrying the known block's key at the time of the request. */
type FreshnessContext = Partial<OperationContext> & { requestedAt?: string };

export function useIndexedQuery<Data extends { _meta: Meta | null }, Variables extends AnyVariables>(params: {
  query: DocumentInput<Data, Variables>;
  variables: Variables;
}) {
  const { config } = useApp();
  const { engine } = useSync();
  useIndexWatch();
  const health = useHealth();
  const known = knownBlockKey(
    health.indexedBlock === undefined ? undefined : { number: health.indexedBlock, timestamp: health.indexedBlockTimestamp },
  );
  // The first request's context, fixed for the life of the component (a new object would be a
  // new request on every render).
  const [mountedAt] = useState(known);
  const context = useMemo<FreshnessContext>(() => ({ requestedAt: mountedAt }), [mountedAt]);
  const [result, reexecute] = useQuery<Data, Variables>({ query: params.query, variables: params.variables, context });
  // A saved copy, answered because the indexer could not be reached (savedAnswers.ts): shown with
  // its age, kept asking like an error, and evidence only that the indexer did not answer.
  const savedAt = savedAtOf(result.extensions);
  useShowsOldAnswer(savedAt);

  const attempt = useRef(0);
  useEffect(() => {
    if (result.fetching || result.stale) return;
    const operationContext = result.operation?.context as FreshnessContext | undefined;
    const delay = refetchDelay({
      known,
      answer: {
        requestedAt: operationContext?.requestedAt,
        fromCache: operationContext?.meta?.cacheOutcome === "hit",
        error: result.error !== undefined || savedAt !== undefined,
      },
      attempt: attempt.current,
    });
    if (delay === undefined) {
      attempt.current = 0;
      return;
    }
    const timer = setTimeout(() => {
      attempt.current++;
      reexecute({ requestPolicy: "network-only", requestedAt: known } as FreshnessContext);
    }, delay);
    return () => clearTimeout(timer);
  }, [result, known, reexecute]);

  // A request that reached the indexer, or could not: evidence for the connection line.
  const networkError = result.error?.networkError;
  const answered = result.data !== undefined && !result.stale && !result.fetching && result.error === undefined && savedAt === undefined;
  useEffect(() => {
    if (!engine) return;
    if (networkError) engine.noteIndexer({ online: false, error: `indexer unreachable: ${networkError.message}` });
    else if (savedAt !== undefined) engine.noteIndexer({ online: false, error: "indexer unreachable: the page shows its saved answer" });
    else if (answered && (result.operation?.context.meta?.cacheOutcome ?? "miss") !== "hit") engine.noteIndexer({ online: true });
  }, [engine, networkError, savedAt, answered, result.operation]);

  const status = savedAt === undefined ? result.data?._meta?.status : undefined;
  useEffect(() => {
    if (!status || !engine) return;
    const chain = Object.values(status).find((c) => c.id === config.chainId);
    if (chain?.block) engine.noteIndexedBlock({ number: BigInt(chain.block.number), timestamp: BigInt(chain.block.timestamp) });
  }, [status, engine, config.chainId]);

  return result;
}
