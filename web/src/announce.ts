/**
 * What the page's announcer (a polite live region) says when the sync state changes: the
 * browser going offline or back, the chain's node or the indexer becoming unreachable or
 * answering again, the live stream going down or coming back. Pure: the component feeds it the
 * facts it remembers and the current ones, puts the sentence in the region and remembers what
 * it is handed back.
 */
import type { Reachability, StreamState } from "./status";

export type SyncFacts = {
  browserOnline: boolean;
  chain: Reachability["state"];
  indexer: Reachability["state"];
  stream: StreamState["state"];
};

export type SyncAnnouncement = { said: string | undefined; remember: SyncFacts };

/**
 * The sentence for the change from `prev` to `next` (undefined when nothing worth saying
 * changed: the first look, a stream still connecting, an answer merely growing old), and the
 * facts to compare the next look with. In-between states (a stream connecting, a reachability
 * not known) keep what was remembered, so "down, connecting, live" says "back"; while the
 * browser is offline every other fact follows from it, so they are not taken in.
 */
export function syncAnnouncement(prev: SyncFacts | undefined, next: SyncFacts): SyncAnnouncement {
  if (!prev) return { said: undefined, remember: next };
  if (!next.browserOnline) {
    const said = prev.browserOnline ? "You are offline: what you see may be out of date, and actions wait as drafts." : undefined;
    return { said, remember: { ...prev, browserOnline: false } };
  }
  const remember: SyncFacts = {
    browserOnline: true,
    chain: next.chain === "unknown" ? prev.chain : next.chain,
    indexer: next.indexer === "unknown" ? prev.indexer : next.indexer,
    stream: next.stream === "connecting" ? prev.stream : next.stream,
  };
  const said: string[] = [];
  if (!prev.browserOnline) said.push("Back online.");
  if (prev.chain !== "unreachable" && remember.chain === "unreachable") said.push("The chain's node is unreachable.");
  if (prev.chain === "unreachable" && remember.chain === "online") said.push("The chain's node answers again.");
  if (prev.indexer !== "unreachable" && remember.indexer === "unreachable") said.push("The indexer is unreachable.");
  if (prev.indexer === "unreachable" && remember.indexer === "online") said.push("The indexer answers again.");
  if (prev.stream !== "down" && remember.stream === "down") said.push("Live updates are down; reconnecting.");
  if (prev.stream === "down" && remember.stream === "live") said.push("Live updates are back.");
  return { said: said.length > 0 ? said.join(" ") : undefined, remember };
}
