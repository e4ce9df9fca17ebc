/**
 * How the app words what it knows of the chain, the indexer and the stream: one rule per fact,
 * used by the sync panel, the operator page and the offline banner alike.
 *
 * A fact is only as good as its last evidence. Something never seen is "unknown"; something
 * last seen a while ago is "unknown — last seen 42 s ago", never "online" or "ok"; and the
 * browser's own "offline" overrules every older answer.
 */
import type { HealthStatus, SyncHealth } from "../../common/ops-api";
import { ago } from "./format";

/** An answer older than this no longer vouches for anything. */
export const STALE_AFTER_MS = 60_000;

export type Reachability = { state: "online" | "unreachable" | "unknown"; text: string };

function lastSeen(seenAt: number | undefined, now: number): string {
  return seenAt === undefined ? "never answered" : `last seen ${ago(now - seenAt)}`;
}

/** The chain's side: the engine reads it on every pushed block and every pass, nothing more. */
export function chainReachability(params: {
  online: boolean | undefined;
  seenAt: number | undefined;
  browserOnline: boolean;
  now: number;
}): Reachability {
  const { online, seenAt, browserOnline, now } = params;
  if (!browserOnline) return { state: "unreachable", text: `unreachable (browser offline) — ${lastSeen(seenAt, now)}` };
  if (online === false) return { state: "unreachable", text: `unreachable — ${lastSeen(seenAt, now)}` };
  if (online === undefined || seenAt === undefined) return { state: "unknown", text: "unknown — not answered yet" };
  if (now - seenAt > STALE_AFTER_MS) return { state: "unknown", text: `unknown — ${lastSeen(seenAt, now)}` };
  return { state: "online", text: `online (answered ${ago(now - seenAt)})` };
}

/** The indexer's side: online while the live stream is connected, else as old as its last answer. */
export function indexerReachability(params: {
  online: boolean | undefined;
  seenAt: number | undefined;
  connected: boolean;
  browserOnline: boolean;
  now: number;
}): Reachability {
  const { online, seenAt, connected, browserOnline, now } = params;
  if (!browserOnline) return { state: "unreachable", text: `unreachable (browser offline) — ${lastSeen(seenAt, now)}` };
  if (online === false) return { state: "unreachable", text: `unreachable — ${lastSeen(seenAt, now)}` };
  if (connected) return { state: "online", text: "online" };
  if (online === undefined || seenAt === undefined) return { state: "unknown", text: "unknown — not answered yet" };
  if (now - seenAt > STALE_AFTER_MS) return { state: "unknown", text: `unknown — ${lastSeen(seenAt, now)}` };
  return { state: "online", text: `online (answered ${ago(now - seenAt)})` };
}

export type StreamState = { state: "live" | "connecting" | "down" | "off"; text: string };

/** The live stream: "live" only while it is connected. */
export function streamState(params: {
  live: boolean;
  connected: boolean;
  indexerOnline: boolean | undefined;
  browserOnline: boolean;
}): StreamState {
  if (!params.live) return { state: "off", text: "no stream (nothing open)" };
  if (params.connected && params.browserOnline) return { state: "live", text: "live" };
  if (params.indexerOnline === false || !params.browserOnline) return { state: "down", text: "stream down, reconnecting" };
  return { state: "connecting", text: "stream connecting…" };
}

/**
 * The chain head to show: the newest block known. A head read before the index passed it is
 * older than what the index proves exists, so the indexed block is shown, saying so; a head
 * not read for a while carries its age.
 */
export function chainHeadView(params: {
  chainHead: bigint | undefined;
  chainSeenAt: number | undefined;
  indexedBlock: bigint | undefined;
  now: number;
}): { block: bigint | undefined; note: string | undefined } {
  const { chainHead, chainSeenAt, indexedBlock, now } = params;
  const read = chainSeenAt === undefined ? "chain not read yet" : `chain read ${ago(now - chainSeenAt)}`;
  if (indexedBlock !== undefined && (chainHead === undefined || chainHead < indexedBlock)) {
    return { block: indexedBlock, note: `at least: the index has it; ${read}` };
  }
  if (chainHead === undefined) return { block: undefined, note: undefined };
  const stale = chainSeenAt === undefined || now - chainSeenAt > STALE_AFTER_MS;
  return { block: chainHead, note: stale ? read : undefined };
}

export type OperatorStatus =
  | { kind: "loading" }
  | { kind: "known"; status: HealthStatus; checkedAt: number }
  | { kind: "unknown"; reason: string; lastAnswerAt: number | undefined };

/**
 * The operator page's status: the indexer's own word while it is fresh and the indexer is
 * reachable, else "unknown" with the reason. An answer is not fresh once a later request failed
 * (the fetch, the stream, a page's query), once the browser is offline, or once it is old.
 */
export function operatorStatus(params: {
  answer: SyncHealth | undefined;
  answeredAt: number | undefined;
  fetchFailed: boolean;
  indexerOnline: boolean | undefined;
  browserOnline: boolean;
  now: number;
}): OperatorStatus {
  const { answer, answeredAt, now } = params;
  const lastAnswerAt = answer ? answeredAt : undefined;
  if (!params.browserOnline) return { kind: "unknown", reason: "browser offline", lastAnswerAt };
  if (params.fetchFailed || params.indexerOnline === false) return { kind: "unknown", reason: "indexer unreachable", lastAnswerAt };
  if (!answer || answeredAt === undefined) return { kind: "loading" };
  if (now - answeredAt > STALE_AFTER_MS) return { kind: "unknown", reason: `no answer for ${ago(now - answeredAt).replace(" ago", "")}`, lastAnswerAt };
  return { kind: "known", status: answer.status, checkedAt: answeredAt };
}
