/** The app's ledger client, pure logic with scripted answers: every record field checked and
 * amounts as bigints; each answer of POST /transactions mapped (201/200 the hash, 404 or 503
 * LEDGER_UNAVAILABLE "no ledger" and said so, 422 a refusal with its code, 429, 5xx and a
 * network failure "try later", a wrong hash refused); a registration retried while unreachable
 * and kept when refused; the chama feed merges stream and reads by time, drops reconciled and
 * other chamas' records, and reads the whole state again after a change it cannot parse. */
import { type Hex, keccak256 } from "viem";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { LedgerTransaction } from "../../common/ledger-api";
import {
  LedgerAnswerError,
  LedgerClient,
  LedgerRefusedError,
  LedgerUnreachableError,
  MAX_ANSWER_BYTES,
  NoLedgerError,
  parseLedgerChange,
  parseLedgerTransaction,
} from "../../web/src/ledger";
import { FAILURE_SHOWN_MS, LedgerFeed } from "../../web/src/ledgerFeed";

const RAW = "0x02f8700182" as Hex;
const HASH = keccak256(RAW);
const FROM = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

function record(over: Partial<LedgerTransaction> = {}): LedgerTransaction {
  return {
    hash: HASH,
    chainId: 31337,
    from: FROM.toLowerCase(),
    nonce: 3,
    to: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    kind: "contribution",
    chamaId: "1",
    amount: "10000000000000",
    recipient: null,
    name: null,
    status: "pending",
    origin: "relay",
    blockNumber: null,
    blockHash: null,
    error: null,
    replacedBy: null,
    rebroadcasts: 0,
    relayed: true,
    createdAt: "2026-12-02T18:00:00.000Z",
    updatedAt: "2026-12-02T18:00:01.000Z",
    sentAt: "2026-12-02T18:00:01.000Z",
    ...over,
  };
}

/** A fetch that answers from a script, recording each request. */
function scripted(answers: (() => Response | Promise<Response>)[]) {
  const requests: { url: string; body: unknown }[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    requests.push({ url: String(input), body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const next = answers.shift();
    if (!next) throw new Error("no scripted answer left");
    return next();
  }) as typeof fetch;
  return { fetchFn, requests };
}

const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const offline = () => () => Promise.reject(new TypeError("Failed to fetch"));

describe("parseLedgerTransaction", () => {
  test("a record: bigints for amounts and ids, a checksummed sender, times in ms", () => {
    const entry = parseLedgerTransaction(record({ amount: "123456789012345678901234567890" }));
    expect(entry.amount).toBe(123456789012345678901234567890n);
    expect(entry.chamaId).toBe(1n);
    expect(entry.from).toBe(FROM);
    expect(entry.sentAt).toBe(Date.parse("2026-12-02T18:00:01.000Z"));
    expect(entry.hash).toBe(HASH.toLowerCase());
  });

  test.each([
    ["amount", { amount: "1e3" }],
    ["amount", { amount: "-1" }],
    ["hash", { hash: "0x1234" }],
    ["status", { status: "lost" as never }],
    ["from", { from: "not an address" }],
    ["nonce", { nonce: -1 }],
    ["updatedAt", { updatedAt: "yesterday" }],
    ["chamaId", { chamaId: "1.5" }],
  ])("refuses a bad %s, naming it", (field, over) => {
    expect(() => parseLedgerTransaction(record(over))).toThrow(new RegExp(`whose ${field} is not valid`));
  });

  test("a failure's message is cut to a readable length", () => {
    const entry = parseLedgerTransaction(record({ status: "failed", error: { reason: "rejected", message: "x".repeat(50_000) } }));
    expect(entry.error?.message.length).toBe(1_000);
  });

  test("a stream change over its size cap, or not JSON, is refused", () => {
    expect(() => parseLedgerChange("x".repeat(20_000))).toThrow(LedgerAnswerError);
    expect(() => parseLedgerChange("{")).toThrow(/not JSON/);
    expect(parseLedgerChange(JSON.stringify({ id: "7", transaction: record(), transition: {} })).id).toBe("7");
  });
});

describe("LedgerClient.relay", () => {
  test("201 and 200 give the signed transaction's hash; the panel says sends go through the ledger", async () => {
    const { fetchFn, requests } = scripted([json(201, record()), json(200, record())]);
    const client = new LedgerClient({ url: "http://api.test/", fetch: fetchFn });
    expect(await client.relay(RAW)).toBe(HASH);
    expect(await client.relay(RAW)).toBe(HASH);
    expect(requests[0]).toEqual({ url: "http://api.test/transactions", body: { raw: RAW } });
    expect(client.state().relay.mode).toBe("relay");
  });

  test("404 without a code, and 503 LEDGER_UNAVAILABLE, are 'no ledger', and the panel says sends go direct", async () => {
    const { fetchFn } = scripted([() => new Response("Not Found", { status: 404 }), json(503, { error: "could not open", code: "LEDGER_UNAVAILABLE" })]);
    const client = new LedgerClient({ url: "http://api.test", fetch: fetchFn });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    await expect(client.relay(RAW)).rejects.toThrow(NoLedgerError);
    expect(client.state().relay).toMatchObject({ mode: "direct", reason: expect.stringMatching(/answered 404/) });
    await expect(client.relay(RAW)).rejects.toThrow(/ledger is unavailable: could not open/);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  test("422 NODE_REFUSED is a refusal carrying the node's reason and the code", async () => {
    const { fetchFn } = scripted([json(422, { error: "The node refused the transaction: nonce too low", code: "NODE_REFUSED" })]);
    const client = new LedgerClient({ url: "http://api.test", fetch: fetchFn });
    const error = await client.relay(RAW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LedgerRefusedError);
    expect(error).toMatchObject({ status: 422, code: "NODE_REFUSED", message: "The node refused the transaction: nonce too low" });
  });

  test.each([
    ["a network failure", offline()],
    ["429 RATE_LIMITED", json(429, { error: "Too many", code: "RATE_LIMITED" })],
    ["503 OVERLOADED", json(503, { error: "busy", code: "OVERLOADED" })],
    ["500", json(500, { error: "Internal error", code: "INTERNAL" })],
  ])("%s is 'try later' (the same bytes go again), never 'no ledger'", async (_, answer) => {
    const { fetchFn } = scripted([answer]);
    const client = new LedgerClient({ url: "http://api.test", fetch: fetchFn });
    await expect(client.relay(RAW)).rejects.toThrow(LedgerUnreachableError);
    expect(client.state().relay.mode).toBe("unknown");
  });

  test("an answer for another hash, or one over the size cap, is refused", async () => {
    const other = `0x${"ab".repeat(32)}`;
    const { fetchFn } = scripted([json(201, record({ hash: other })), () => new Response("x".repeat(MAX_ANSWER_BYTES + 1), { status: 201 })]);
    const client = new LedgerClient({ url: "http://api.test", fetch: fetchFn });
    await expect(client.relay(RAW)).rejects.toThrow(/not 0x/);
    await expect(client.relay(RAW)).rejects.toThrow(/over the 1000000 bytes/);
  });
});

describe("LedgerClient.register", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("retried with back-off while unreachable or not yet seen by the node, then registered", async () => {
    const { fetchFn, requests } = scripted([offline(), json(404, { error: "not known", code: "UNKNOWN_TRANSACTION" }), json(201, record({ origin: "wallet" }))]);
    const client = new LedgerClient({ url: "http://api.test", fetch: fetchFn });
    client.register(HASH);
    await vi.advanceTimersByTimeAsync(0);
    expect(client.state().registrations[0]).toMatchObject({ hash: HASH, state: "retrying" });
    await vi.advanceTimersByTimeAsync(500);
    expect(requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(3);
    expect(requests[2]!.body).toEqual({ hash: HASH });
    expect(client.state().registrations[0]).toMatchObject({ hash: HASH, state: "registered" });
  });

  test("a refusal is kept and logged, not retried", async () => {
    const { fetchFn, requests } = scripted([json(422, { error: "not to the Chama contract", code: "WRONG_CONTRACT" })]);
    const client = new LedgerClient({ url: "http://api.test", fetch: fetchFn });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    client.register(HASH);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(1);
    expect(client.state().registrations[0]).toMatchObject({ state: "refused", message: "not to the Chama contract" });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("did not register"));
    warn.mockRestore();
  });
});

/** An EventSource the test drives. */
class ScriptedSource {
  static opened: ScriptedSource[] = [];
  readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    ScriptedSource.opened.push(this);
  }
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  emit(type: string, data: string) {
    for (const l of this.listeners.get(type) ?? []) l({ data } as MessageEvent<string>);
  }
  close() {
    this.closed = true;
  }
}

describe("LedgerFeed", () => {
  beforeEach(() => {
    ScriptedSource.opened = [];
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const page = (items: LedgerTransaction[]) => json(200, { items, next: null });
  const reads = (open: LedgerTransaction[] = [], failed: LedgerTransaction[] = []) => [page(open.filter((r) => r.status === "draft")), page(open.filter((r) => r.status === "pending")), page(open.filter((r) => r.status === "confirmed")), page(failed)];
  const change = (id: string, r: LedgerTransaction) => JSON.stringify({ id, transaction: r, transition: { from: null, to: r.status, cause: "", at: r.updatedAt } });

  function feedWith(answers: (() => Response | Promise<Response>)[], now = Date.parse("2026-12-02T18:00:05.000Z")) {
    const { fetchFn, requests } = scripted(answers);
    const client = new LedgerClient({ url: "http://api.test", fetch: fetchFn });
    const feed = new LedgerFeed({ client, chamaId: 1n, now: () => now, eventSource: (url) => new ScriptedSource(url) });
    feed.start();
    return { feed, requests };
  }

  test("live after the stream's ready and the read; a change moves a row, reconciled takes it away", async () => {
    const { feed } = feedWith(reads([record()]));
    const source = ScriptedSource.opened[0]!;
    expect(source.url).toBe("http://api.test/transactions/stream?chamaId=1");
    source.emit("ready", "{}");
    await vi.advanceTimersByTimeAsync(0);
    expect(feed.get()).toMatchObject({ state: "live", entries: [{ hash: HASH.toLowerCase(), status: "pending" }] });
    source.emit("transaction", change("8", record({ status: "confirmed", updatedAt: "2026-12-02T18:00:03.000Z" })));
    expect(feed.get().entries[0]!.status).toBe("confirmed");
    // An older copy (a read that crossed the change) never undoes it.
    source.emit("transaction", change("9", record({ status: "pending", updatedAt: "2026-12-02T18:00:02.000Z" })));
    expect(feed.get().entries[0]!.status).toBe("confirmed");
    source.emit("transaction", change("10", record({ status: "reconciled", updatedAt: "2026-12-02T18:00:04.000Z" })));
    expect(feed.get().entries).toEqual([]);
    // Another chama's record is not this page's.
    source.emit("transaction", change("11", record({ hash: `0x${"cd".repeat(32)}`, chamaId: "2" })));
    expect(feed.get().entries).toEqual([]);
  });

  test("a failure stays with its reason for an hour; an old one is not shown", async () => {
    const now = Date.parse("2026-12-02T18:00:05.000Z");
    const old = new Date(now - FAILURE_SHOWN_MS - 1).toISOString();
    const { feed } = feedWith(
      reads([], [
        record({ status: "failed", error: { reason: "rejected", message: "insufficient funds" } }),
        record({ hash: `0x${"ee".repeat(32)}`, status: "failed", updatedAt: old, error: { reason: "timeout", message: "timed out" } }),
      ]),
      now,
    );
    ScriptedSource.opened[0]!.emit("ready", "{}");
    await vi.advanceTimersByTimeAsync(0);
    expect(feed.get().entries.map((e) => [e.status, e.error?.message])).toEqual([["failed", "insufficient funds"]]);
  });

  test("a change it cannot read closes the stream, reads everything again and reconnects after the last id", async () => {
    const { feed, requests } = feedWith([...reads([record()]), ...reads([record({ status: "confirmed", updatedAt: "2026-12-02T18:00:03.000Z" })])]);
    const first = ScriptedSource.opened[0]!;
    first.emit("ready", "{}");
    await vi.advanceTimersByTimeAsync(0);
    first.emit("transaction", change("41", record({ status: "pending", updatedAt: "2026-12-02T18:00:02.000Z" })));
    first.emit("transaction", JSON.stringify({ id: "42", transaction: { hash: "nonsense" } }));
    expect(first.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(8);
    expect(feed.get()).toMatchObject({ state: "connecting", entries: [{ status: "confirmed" }] });
    await vi.advanceTimersByTimeAsync(250);
    expect(ScriptedSource.opened[1]!.url).toBe("http://api.test/transactions/stream?chamaId=1&after=41");
  });

  test("an API without a ledger is 'no-ledger', asked again only every 30 s; an unreachable one is 'unreachable'", async () => {
    const { feed } = feedWith([
      () => new Response("Not Found", { status: 404 }),
      () => new Response("Not Found", { status: 404 }),
      () => new Response("Not Found", { status: 404 }),
      () => new Response("Not Found", { status: 404 }),
    ]);
    ScriptedSource.opened[0]!.onerror!(new Event("error"));
    await vi.advanceTimersByTimeAsync(0);
    expect(feed.get().state).toBe("no-ledger");
    await vi.advanceTimersByTimeAsync(29_999);
    expect(ScriptedSource.opened).toHaveLength(1);
    feed.stop();

    const down = feedWith([offline(), offline(), offline(), offline()]);
    ScriptedSource.opened.at(-1)!.onerror!(new Event("error"));
    await vi.advanceTimersByTimeAsync(0);
    expect(down.feed.get().state).toBe("unreachable");
    down.feed.stop();
  });
});
