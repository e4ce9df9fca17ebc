/** The announcer's sentences: said once per real change, nothing on the first look, a stream
 * that goes down and comes back through "connecting" says both, offline says only that. */
import { describe, expect, test } from "vitest";
import { type SyncFacts, syncAnnouncement } from "../../web/src/announce";

const UP: SyncFacts = { browserOnline: true, chain: "online", indexer: "online", stream: "live" };

/** Feeds the facts in order, as the component does, and returns what each look said. */
function say(...looks: SyncFacts[]): (string | undefined)[] {
  let remembered: SyncFacts | undefined;
  return looks.map((facts) => {
    const next = syncAnnouncement(remembered, facts);
    remembered = next.remember;
    return next.said;
  });
}

describe("syncAnnouncement", () => {
  test("nothing on the first look, nor while nothing changes", () => {
    expect(say(UP, UP, UP)).toEqual([undefined, undefined, undefined]);
  });

  test("a stream down, connecting, then live says down and back once each", () => {
    expect(say(UP, { ...UP, stream: "down" }, { ...UP, stream: "connecting" }, { ...UP, stream: "live" }, UP)).toEqual([
      undefined,
      "Live updates are down; reconnecting.",
      undefined,
      "Live updates are back.",
      undefined,
    ]);
  });

  test("the first connection of the stream is not news", () => {
    expect(say({ ...UP, stream: "off" }, { ...UP, stream: "connecting" }, UP)).toEqual([undefined, undefined, undefined]);
  });

  test("the indexer and the chain unreachable, then answering again through unknown", () => {
    expect(
      say(
        UP,
        { ...UP, indexer: "unreachable", stream: "down" },
        { ...UP, indexer: "unknown", stream: "connecting" },
        { ...UP, chain: "unreachable" },
        UP,
      ),
    ).toEqual([
      undefined,
      "The indexer is unreachable. Live updates are down; reconnecting.",
      undefined,
      "The chain's node is unreachable. The indexer answers again. Live updates are back.",
      "The chain's node answers again.",
    ]);
  });

  test("offline says only that, and back online says so", () => {
    const offline: SyncFacts = { browserOnline: false, chain: "unreachable", indexer: "unreachable", stream: "down" };
    expect(say(UP, offline, offline, { ...UP, stream: "connecting" }, UP)).toEqual([
      undefined,
      "You are offline: what you see may be out of date, and actions wait as drafts.",
      undefined,
      "Back online.",
      undefined,
    ]);
  });

  test("an answer growing old (online to unknown) says nothing", () => {
    expect(say(UP, { ...UP, chain: "unknown" }, UP)).toEqual([undefined, undefined, undefined]);
  });
});
