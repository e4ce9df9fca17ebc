/** The status rules: unknown is unknown with its age, never ok; offline overrules older answers;
 * "live" only while the stream is connected; the chain head is never older than the index. */
import { describe, expect, test } from "vitest";
import type { SyncHealth } from "../../common/ops-api";
import {
  STALE_AFTER_MS,
  chainHeadView,
  chainReachability,
  indexerReachability,
  operatorStatus,
  streamState,
} from "../../web/src/status";

const NOW = 1_700_000_000_000;

describe("chain and indexer reachability", () => {
  test("never answered is unknown, not checking or online", () => {
    expect(chainReachability({ online: undefined, seenAt: undefined, browserOnline: true, now: NOW })).toEqual({
      state: "unknown",
      text: "unknown — not answered yet",
    });
  });

  test("an answer older than a minute is unknown, with its age", () => {
    const seenAt = NOW - STALE_AFTER_MS - 42_000;
    expect(chainReachability({ online: true, seenAt, browserOnline: true, now: NOW })).toEqual({
      state: "unknown",
      text: "unknown — last seen 1 min ago",
    });
    expect(chainReachability({ online: true, seenAt: NOW - 3_000, browserOnline: true, now: NOW }).state).toBe("online");
  });

  test("unreachable says when it was last seen; offline overrules an answer", () => {
    expect(chainReachability({ online: false, seenAt: NOW - 42_000, browserOnline: true, now: NOW }).text).toBe(
      "unreachable — last seen 42 s ago",
    );
    expect(chainReachability({ online: true, seenAt: NOW - 1_000, browserOnline: false, now: NOW })).toMatchObject({
      state: "unreachable",
    });
    expect(
      indexerReachability({ online: true, seenAt: NOW, connected: true, browserOnline: false, now: NOW }).state,
    ).toBe("unreachable");
  });

  test("the indexer is online while the stream is connected, however old its last answer", () => {
    expect(indexerReachability({ online: true, seenAt: NOW - 600_000, connected: true, browserOnline: true, now: NOW })).toEqual({
      state: "online",
      text: "online",
    });
    expect(indexerReachability({ online: false, seenAt: NOW - 5_000, connected: false, browserOnline: true, now: NOW }).text).toBe(
      "unreachable — last seen 5 s ago",
    );
  });
});

describe("stream state", () => {
  test("live only while connected", () => {
    expect(streamState({ live: true, connected: true, indexerOnline: true, browserOnline: true }).state).toBe("live");
    expect(streamState({ live: true, connected: false, indexerOnline: undefined, browserOnline: true }).state).toBe("connecting");
    expect(streamState({ live: true, connected: false, indexerOnline: false, browserOnline: true }).state).toBe("down");
    expect(streamState({ live: true, connected: true, indexerOnline: true, browserOnline: false }).state).toBe("down");
    expect(streamState({ live: false, connected: false, indexerOnline: true, browserOnline: true }).state).toBe("off");
  });
});

describe("chain head", () => {
  test("a head read before the index passed it shows the indexed block, saying so", () => {
    expect(chainHeadView({ chainHead: 201n, chainSeenAt: NOW - 30_000, indexedBlock: 218n, now: NOW })).toEqual({
      block: 218n,
      note: "at least: the index has it; chain read 30 s ago",
    });
  });

  test("a fresh head is shown as it is; an old one with its age", () => {
    expect(chainHeadView({ chainHead: 220n, chainSeenAt: NOW - 1_000, indexedBlock: 218n, now: NOW })).toEqual({ block: 220n, note: undefined });
    expect(chainHeadView({ chainHead: 220n, chainSeenAt: NOW - 120_000, indexedBlock: 218n, now: NOW }).note).toBe("chain read 2 min ago");
  });
});

describe("operator status", () => {
  const answer = { status: "ok" } as SyncHealth;
  const base = { answer, answeredAt: NOW - 2_000, fetchFailed: false, indexerOnline: true, browserOnline: true, now: NOW };

  test("a fresh answer from a reachable indexer is its word", () => {
    expect(operatorStatus(base)).toEqual({ kind: "known", status: "ok", checkedAt: NOW - 2_000 });
  });

  test("a failed fetch, a broken stream or the browser offline make an old ok unknown", () => {
    expect(operatorStatus({ ...base, fetchFailed: true })).toEqual({ kind: "unknown", reason: "indexer unreachable", lastAnswerAt: NOW - 2_000 });
    expect(operatorStatus({ ...base, indexerOnline: false })).toMatchObject({ kind: "unknown", reason: "indexer unreachable" });
    expect(operatorStatus({ ...base, browserOnline: false })).toMatchObject({ kind: "unknown", reason: "browser offline" });
    expect(operatorStatus({ ...base, answer: undefined, answeredAt: undefined, fetchFailed: true })).toEqual({
      kind: "unknown",
      reason: "indexer unreachable",
      lastAnswerAt: undefined,
    });
  });

  test("an answer older than a minute is not the status now", () => {
    expect(operatorStatus({ ...base, answeredAt: NOW - 5 * 60_000 })).toMatchObject({ kind: "unknown", reason: "no answer for 5 min" });
  });

  test("nothing yet is loading", () => {
    expect(operatorStatus({ ...base, answer: undefined, answeredAt: undefined })).toEqual({ kind: "loading" });
  });
});
