/** A server-sent events client for tests: reads a stream with fetch and keeps every message. */
import { waitFor } from "../../scripts/lib/processes";

export type SseMessage = { event: string; id: string | undefined; data: string };

export type SseStream = {
  status: number;
  messages: SseMessage[];
  /** Waits for a message (after the first `from` ones) that `match` accepts, and returns it. */
  next: (params: { what: string; match: (m: SseMessage) => boolean; from?: number; timeoutMs?: number }) => Promise<SseMessage>;
  close: () => void;
};

/** Parses complete SSE blocks out of `buffer`; returns the messages and what is left over. */
export function parseSse(buffer: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let event = "message";
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(":") || line === "") continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "id") id = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0 || id !== undefined) messages.push({ event, id, data: data.join("\n") });
  }
  return { messages, rest };
}

/** Opens `url` as an event stream (with Last-Event-ID when given). Resolves once the response's
 * headers are in; a non-200 answer is returned with no messages. */
export async function openSse(params: { url: string; lastEventId?: string }): Promise<SseStream> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (params.lastEventId !== undefined) headers["last-event-id"] = params.lastEventId;
  const response = await fetch(params.url, { headers, signal: controller.signal });
  const messages: SseMessage[] = [];
  if (response.ok && response.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          const parsed = parseSse(buffer);
          buffer = parsed.rest;
          messages.push(...parsed.messages);
        }
      } catch {
        // Closed by close(), or the server went away: the messages so far stay.
      }
    })();
  }
  return {
    status: response.status,
    messages,
    next: ({ what, match, from = 0, timeoutMs = 15_000 }) =>
      waitFor({ what, timeoutMs, intervalMs: 20, check: async () => messages.slice(from).find(match) }),
    close: () => controller.abort(),
  };
}
