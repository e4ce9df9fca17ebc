/** A urql query that follows the index: it fetches again until it holds an answer requested
 * after the newest indexed block the sync engine knows of (see freshness.ts), and it feeds the
 * indexed block its answers report back to the engine's health. */
import { useEffect, useMemo, useRef, useState } from "react";
import { type AnyVariables, type DocumentInput, type OperationContext, useQuery } from "urql";
import { useApp } from "../appContext";
import type { Meta } from "../queries";
import { useHealth, useSync } from "../sync/react";
import { knownBlockKey, refetchDelay } from "./freshness";

/** The operation context field carrying the known block's key at the time of the request. */
type FreshnessContext = Partial<OperationContext> & { requestedAt?: string };

export function useIndexedQuery<Data extends { _meta: Meta | null }, Variables extends AnyVariables>(params: {
  query: DocumentInput<Data, Variables>;
  variables: Variables;
}) {
  const { config } = useApp();
  const { engine } = useSync();
  const health = useHealth();
  const known = knownBlockKey(
    health.indexedBlock === undefined ? undefined : { number: health.indexedBlock, timestamp: health.indexedBlockTimestamp },
  );
  // The first request's context, fixed for the life of the component (a new object would be a
  // new request on every render).
  const [mountedAt] = useState(known);
  const context = useMemo<FreshnessContext>(() => ({ requestedAt: mountedAt }), [mountedAt]);
  const [result, reexecute] = useQuery<Data, Variables>({ query: params.query, variables: params.variables, context });

  const attempt = useRef(0);
  useEffect(() => {
    if (result.fetching || result.stale) return;
    const operationContext = result.operation?.context as FreshnessContext | undefined;
    const delay = refetchDelay({
      known,
      answer: {
        requestedAt: operationContext?.requestedAt,
        fromCache: operationContext?.meta?.cacheOutcome === "hit",
        error: result.error !== undefined,
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

  const status = result.data?._meta?.status;
  useEffect(() => {
    if (!status || !engine) return;
    const chain = Object.values(status).find((c) => c.id === config.chainId);
    if (chain?.block) engine.noteIndexedBlock({ number: BigInt(chain.block.number), timestamp: BigInt(chain.block.timestamp) });
  }, [status, engine, config.chainId]);

  return result;
}
