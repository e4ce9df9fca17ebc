/** The page's announcer: one polite live region, there from the first render (a region added
 * with its text is often not read), that says each change of the sync state in a sentence
 * (announce.ts). The action toasts announce the actions' own status changes. */
import { useEffect, useRef, useState } from "react";
import { type SyncFacts, syncAnnouncement } from "../announce";
import { useBrowserOnline } from "../hooks/useBrowserOnline";
import { chainReachability, indexerReachability, streamState } from "../status";
import { useHealth } from "../sync/react";
import { useNow } from "./SyncHealthPanel";

export function Announcer() {
  const health = useHealth();
  const browserOnline = useBrowserOnline();
  const now = useNow();
  const facts: SyncFacts = {
    browserOnline,
    chain: chainReachability({ online: health.chainOnline, seenAt: health.chainSeenAt, browserOnline, now }).state,
    indexer: indexerReachability({ online: health.indexerOnline, seenAt: health.indexerSeenAt, connected: health.connected, browserOnline, now }).state,
    stream: streamState({ live: health.live, connected: health.connected, indexerOnline: health.indexerOnline, browserOnline }).state,
  };
  const remembered = useRef<SyncFacts | undefined>(undefined);
  const [message, setMessage] = useState("");
  const key = `${facts.browserOnline}:${facts.chain}:${facts.indexer}:${facts.stream}`;
  useEffect(() => {
    const next = syncAnnouncement(remembered.current, facts);
    remembered.current = next.remember;
    if (next.said) setMessage(next.said);
    // Run once per change of the facts, all of which are in `key`.
  }, [key]);
  return (
    <div className="sr-only" role="status" aria-live="polite" data-testid="announcer">
      {message}
    </div>
  );
}
