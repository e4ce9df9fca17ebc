/** Holds the indexer's live stream while the component is mounted (the engine shares one
 * stream among all watching views), so each newly indexed block reaches it as a push. */
import { useEffect } from "react";
import { useSync } from "../sync/react";

export function useIndexWatch(): void {
  const { engine } = useSync();
  useEffect(() => engine?.watchIndex(), [engine]);
}
