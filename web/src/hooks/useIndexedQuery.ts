/** A urql query that refetches whenever the sync engine learns of a newly indexed block, and
 * that feeds the indexed block it reports back to the engine's health. */
import { useEffect } from "react";
import { type AnyVariables, type DocumentInput, useQuery } from "urql";
import { useApp } from "../appContext";
import type { Meta } from "../queries";
import { useHealth, useSync } from "../sync/react";

export function useIndexedQuery<Data extends { _meta: Meta | null }, Variables extends AnyVariables>(params: {
  query: DocumentInput<Data, Variables>;
  variables: Variables;
}) {
  const { config } = useApp();
  const { engine } = useSync();
  const health = useHealth();
  const [result, reexecute] = useQuery<Data, Variables>({ query: params.query, variables: params.variables });

  // A newly indexed block (pushed while something is pending): fetch again.
  useEffect(() => {
    if (health.indexedBlock !== undefined) reexecute({ requestPolicy: "network-only" });
  }, [health.indexedBlock, reexecute]);

  const status = result.data?._meta?.status;
  useEffect(() => {
    if (!status || !engine) return;
    const chain = Object.values(status).find((c) => c.id === config.chainId);
    if (chain?.block) engine.noteIndexedBlock({ number: BigInt(chain.block.number), timestamp: BigInt(chain.block.timestamp) });
  }, [status, engine, config.chainId]);

  return result;
}
