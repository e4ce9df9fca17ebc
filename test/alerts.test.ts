/**
 * Operator alerts without an indexer: the rules (one alert per change, a flapping status
 * debounced, a held one always announced; discrepancies and the clean run after them; each
 * timed-out record in one batch only) and the delivery to a real HTTP webhook on 127.0.0.1
 * (retries with backoff, one accepted copy per alert, 4xx given up, timeouts, a bounded queue
 * against a dead webhook, nothing posted by a standby replica).
 */
import { afterEach, describe, expect, test } from "vitest";
import { loadOpsEnv } from "../config/env";
import type { Discrepancy, HealthStatus } from "../common/ops-api";
import { DiscrepancyRule, StatusRule, StuckRule, type TimedOut } from "../ops/alert-rules";
import { Alerter, OpsAlerts, RECENT_ALERTS, retryDelayMs } from "../ops/alerts";
import { getFreePort } from "../scripts/lib/ports";
import { type Webhook, startWebhook } from "./_support/webhook";

describe("StatusRule", () => {
  const run = (rule: StatusRule, samples: [number, HealthStatus][]) =>
    samples.map(([at, status]) => rule.sample({ at, status, reasons: status === "ok" ? [] : [`${status} because of a test`] })).filter((a) => a !== undefined);

  test("a flapping status is not announced; one held for the debounce is, once; back to ok is resolved", () => {
    const rule = new StatusRule({ debounceMs: 1_000, now: 0 });
    // Lagging every other sample for 5 s (ending ok): never 1 s without an ok sample in between.
    const flapping = Array.from({ length: 51 }, (_, i): [number, HealthStatus] => [i * 100, i % 2 ? "lagging" : "ok"]);
    expect(run(rule, flapping)).toEqual([]);

    // Stalled, then diverged, held from 10 s: announced once, at 11 s, with the latest status.
    const held = Array.from({ length: 30 }, (_, i): [number, HealthStatus] => [10_000 + i * 100, i < 5 ? "stalled" : "diverged"]);
    const alerts = run(rule, held);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toEqual({
      kind: "status",
      resolved: false,
      message: "Sync status changed from ok to diverged: diverged because of a test.",
      details: { from: "ok", to: "diverged", reasons: ["diverged because of a test"], since: new Date(10_000).toISOString(), seen: ["stalled", "diverged"] },
    });
    expect(rule.announced).toBe("diverged");

    // A single ok sample is not a recovery; ok held for the debounce is.
    expect(run(rule, [[13_100, "ok"], [13_200, "diverged"]])).toEqual([]);
    const back = run(rule, Array.from({ length: 15 }, (_, i): [number, HealthStatus] => [20_000 + i * 100, "ok"]));
    expect(back).toEqual([
      expect.objectContaining({ kind: "status", resolved: true, message: "Sync status is back to ok (it was diverged for 10 s).", details: expect.objectContaining({ from: "diverged", to: "ok" }) }),
    ]);
  });

  test("with no debounce every change is announced at its first sample, and no sample twice", () => {
    const rule = new StatusRule({ debounceMs: 0, now: 0 });
    const alerts = run(rule, [[1, "ok"], [2, "lagging"], [3, "lagging"], [4, "stalled"], [5, "stalled"], [6, "ok"], [7, "ok"]]);
    expect(alerts.map((a) => [a.details.from, a.details.to, a.resolved])).toEqual([
      ["ok", "lagging", false],
      ["lagging", "stalled", false],
      ["stalled", "ok", true],
    ]);
  });
});

describe("DiscrepancyRule", () => {
  const d = (table: Discrepancy["table"], key: string): Discrepancy => ({ kind: "extra_in_db", table, key, db: {}, chain: null });

  test("an alert when differences appear or their number changes, a resolved one for the first clean run after them", () => {
    const rule = new DiscrepancyRule();
    const run = (discrepancies: Discrepancy[], block = "10") => rule.reconciled({ block, discrepancyCount: discrepancies.length, discrepancies });
    expect(run([])).toBeUndefined();
    const found = run([d("ledger", "0xaa"), d("ledger", "0xbb"), d("contribution", "0xcc:0")]);
    expect(found).toMatchObject({
      kind: "discrepancy",
      resolved: false,
      message: "The reconciliation at block 10 found 3 differences from the chain (2 ledger, 1 contribution).",
      details: { block: "10", discrepancyCount: 3, before: 0, byTable: { ledger: 2, contribution: 1 } },
    });
    expect(run([d("ledger", "0xaa"), d("ledger", "0xbb"), d("contribution", "0xcc:0")], "11")).toBeUndefined();
    expect(run([d("ledger", "0xaa")], "12")).toMatchObject({ resolved: false, details: { discrepancyCount: 1, before: 3 } });
    expect(run([], "13")).toMatchObject({
      resolved: true,
      message: "The reconciliation at block 13 found the index and the ledger equal to the chain again (1 differences before).",
    });
    expect(run([], "14")).toBeUndefined();
  });
});

describe("StuckRule", () => {
  const record = (n: number, at: number): TimedOut => ({
    hash: `0x${n.toString(16).padStart(64, "0")}`,
    kind: "contribution",
    chamaId: 1n,
    from: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    amount: 1_000n,
    sentAt: new Date(at - 600_000),
    updatedAt: new Date(at),
  });

  test("each timed-out record is in one alert only, named with its hash", () => {
    const rule = new StuckRule({ since: new Date(1_000), timeoutMs: 600_000, limit: 3 });
    expect(rule.query).toEqual({ since: new Date(1_000), limit: 3 });
    const first = rule.read([record(1, 2_000), record(2, 2_000)]);
    expect(first).toMatchObject({
      kind: "stuck",
      resolved: false,
      message: "2 ledger actions timed out with no receipt after 600 s: contribution 0x00000000…0001 (chama 1), contribution 0x00000000…0002 (chama 1).",
      details: { count: 2, timeoutMs: 600_000, hashes: [record(1, 0).hash, record(2, 0).hash] },
    });
    expect(rule.query.since).toEqual(new Date(2_000));
    // Read again from the cursor (>=): the two are seen, a third at the same millisecond is new.
    expect(rule.read([record(1, 2_000), record(2, 2_000)])).toBeUndefined();
    expect(rule.read([record(1, 2_000), record(2, 2_000), record(3, 2_000)])).toMatchObject({ details: { count: 1, hashes: [record(3, 0).hash] } });
    // A full page of one millisecond, all seen: the cursor steps past it.
    expect(rule.read([record(1, 2_000), record(2, 2_000), record(3, 2_000)])).toBeUndefined();
    expect(rule.query.since).toEqual(new Date(2_001));
    expect(rule.read([record(4, 5_000)])).toMatchObject({ message: "1 ledger action timed out with no receipt after 600 s: contribution 0x00000000…0004 (chama 1)." });
  });
});

test("retryDelayMs doubles from the base up to the cap", () => {
  const settings = { alertRetryBaseMs: 100, alertRetryMaxMs: 1_000 };
  expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(settings, n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
});

describe("Alerter against a real webhook", () => {
  let webhook: Webhook | undefined;
  const alerters: Alerter[] = [];
  afterEach(async () => {
    for (const a of alerters.splice(0)) await a.stop();
    await webhook?.stop();
    webhook = undefined;
  });

  const settingsFor = (url: string | undefined, overrides: Partial<Record<string, string>> = {}) =>
    loadOpsEnv({ env: { ALERT_WEBHOOK_URL: url, ALERT_RETRY_BASE_MS: "100", ALERT_RETRY_MAX_MS: "400", ALERT_MAX_ATTEMPTS: "4", ALERT_WEBHOOK_TIMEOUT_MS: "300", ...overrides } });
  const make = (settings: ReturnType<typeof settingsFor>, isLeader = () => true) => {
    const lines: string[] = [];
    const alerter = new Alerter({ settings, isLeader, log: (line) => lines.push(line) });
    alerters.push(alerter);
    return { alerter, lines };
  };
  const alert = (n: number) => ({ kind: "status" as const, resolved: false, message: `alert number ${n}`, details: { n } });

  test("the first deliveries fail: retried with backoff, the same id each time, accepted once", async () => {
    webhook = await startWebhook();
    webhook.fail(2);
    const { alerter } = make(settingsFor(webhook.url));
    const raised = alerter.raise(alert(1))!;
    expect(raised.delivery).toEqual({ state: "pending", attempts: 0, lastError: null });
    await alerter.idle();

    expect(webhook.deliveries.map((d) => d.status)).toEqual([503, 503, 204]);
    const [first, second, third] = webhook.deliveries;
    // 100 ms, then 200 ms.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(95);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(195);
    for (const d of webhook.deliveries) {
      expect(d.headers["idempotency-key"]).toBe(raised.id);
      expect(d.headers["content-type"]).toBe("application/json");
    }
    expect(webhook.accepted()).toEqual([
      { id: raised.id, kind: "status", at: raised.at, message: "alert number 1", text: "[jenga] alert number 1", resolved: false, details: { n: 1 } },
    ]);
    expect(alerter.recent()[0]!.delivery).toEqual({ state: "delivered", attempts: 3, lastError: null });
    expect(alerter.state()).toMatchObject({ posting: true, webhook: true, raised: 1, delivered: 1, failed: 0, dropped: 0, queued: 0 });
  });

  test("several alerts while the webhook fails now and then: each accepted exactly once, in order", async () => {
    webhook = await startWebhook();
    const { alerter } = make(settingsFor(webhook.url));
    // Alert 1 fails once; alert 3 fails twice (a 503, then a 500).
    webhook.answer([503, 204, 204, 503, 500]);
    const ids = [1, 2, 3, 4, 5].map((n) => alerter.raise(alert(n))!.id);
    await alerter.idle();
    const accepted = webhook.accepted().map((a) => a.id);
    expect(accepted).toEqual(ids);
    expect(new Set(webhook.deliveries.map((d) => d.body.id)).size).toBe(5);
    expect(webhook.deliveries.filter((d) => d.status >= 500)).toHaveLength(3);
  });

  test("a 4xx is given up at once; a webhook that never answers is retried up to ALERT_MAX_ATTEMPTS, each within the timeout", async () => {
    webhook = await startWebhook();
    const { alerter, lines } = make(settingsFor(webhook.url));
    webhook.fail(1, 400);
    alerter.raise(alert(1));
    await alerter.idle();
    expect(webhook.deliveries).toHaveLength(1);
    expect(alerter.recent()[0]!.delivery).toEqual({ state: "failed", attempts: 1, lastError: "the webhook answered HTTP 400" });

    webhook.hang(true);
    const started = Date.now();
    alerter.raise(alert(2));
    await alerter.idle();
    // 4 attempts of 300 ms, waits of 100 + 200 + 400 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 300 + 700 - 50);
    expect(Date.now() - started).toBeLessThan(4 * 300 + 700 + 2_000);
    expect(alerter.recent()[0]!.delivery).toEqual({ state: "failed", attempts: 4, lastError: "no answer within ALERT_WEBHOOK_TIMEOUT_MS (300 ms)" });
    expect(alerter.state()).toMatchObject({ raised: 2, delivered: 0, failed: 2 });
    expect(lines.join("\n")).toMatch(/could not be delivered to ALERT_WEBHOOK_URL after 4 attempts/);
    // The URL (and its token) is never in an error or a log line.
    expect(lines.join("\n")).not.toContain("secret-token");
  });

  test("a dead webhook: the queue stays bounded, the oldest waiting alerts are dropped and say so", async () => {
    const port = await getFreePort(); // nothing listens: connections are refused
    const { alerter } = make(settingsFor(`http://127.0.0.1:${port}/hook`, { ALERT_QUEUE_SIZE: "3", ALERT_MAX_ATTEMPTS: "20", ALERT_RETRY_BASE_MS: "1000", ALERT_RETRY_MAX_MS: "1000" }));
    for (let n = 1; n <= 30; n++) alerter.raise(alert(n));
    // One in flight, three waiting, the rest dropped.
    expect(alerter.state()).toMatchObject({ raised: 30, queued: 3, dropped: 26, delivered: 0 });
    const recent = alerter.recent();
    expect(recent).toHaveLength(RECENT_ALERTS);
    expect(recent.slice(0, 3).map((a) => [a.message, a.delivery.state])).toEqual([
      ["alert number 30", "pending"],
      ["alert number 29", "pending"],
      ["alert number 28", "pending"],
    ]);
    expect(recent[3]!.delivery).toEqual({ state: "dropped", attempts: 0, lastError: "the alert queue was full (ALERT_QUEUE_SIZE=3)" });

    // A refused connection is a retried error that names the cause (never the URL).
    const once = make(settingsFor(`http://127.0.0.1:${port}/hook`, { ALERT_MAX_ATTEMPTS: "1" })).alerter;
    once.raise(alert(31));
    await once.idle();
    expect(once.recent()[0]!.delivery).toMatchObject({ state: "failed", attempts: 1, lastError: expect.stringMatching(/ECONNREFUSED/) });
  });

  test("without ALERT_WEBHOOK_URL alerts are kept with delivery off; a standby replica raises nothing", async () => {
    const { alerter } = make(settingsFor(undefined));
    expect(alerter.raise(alert(1))?.delivery).toEqual({ state: "off", attempts: 0, lastError: null });
    expect(alerter.state()).toMatchObject({ posting: true, webhook: false, raised: 1 });

    webhook = await startWebhook();
    let leader = false;
    const standby = make(settingsFor(webhook.url), () => leader).alerter;
    expect(standby.raise(alert(2))).toBeUndefined();
    expect(standby.recent()).toEqual([]);
    expect(standby.state()).toMatchObject({ posting: false, raised: 0 });
    leader = true;
    standby.raise(alert(3));
    await standby.idle();
    expect(webhook.accepted().map((a) => a.message)).toEqual(["alert number 3"]);
  });
});

test("OpsAlerts: a standby keeps the rules' state, so taking over does not repeat an alert", async () => {
  let leader = false;
  const timedOut: TimedOut[] = [];
  const alerts = new OpsAlerts({
    ops: loadOpsEnv({ env: { ALERT_DEBOUNCE_MS: "0" } }),
    isLeader: () => leader,
    timedOutSince: async ({ since }) => timedOut.filter((r) => r.updatedAt >= since),
    ledgerTimeoutMs: 10_000,
  });
  const at = (ms: number) => new Date(Date.now() + ms).toISOString();
  alerts.sampled({ status: "stalled", reasons: ["the RPC is down"], checkedAt: at(0) });
  await alerts.pollStuck();
  expect(alerts.alerter.recent()).toEqual([]);

  leader = true;
  alerts.sampled({ status: "stalled", reasons: ["the RPC is down"], checkedAt: at(10) });
  await alerts.pollStuck();
  timedOut.push({ hash: `0x${"ab".repeat(32)}`, kind: "payout", chamaId: 2n, from: "0x00", amount: 5n, sentAt: null, updatedAt: new Date(Date.now() + 1_000) });
  await alerts.pollStuck();
  alerts.sampled({ status: "ok", reasons: [], checkedAt: at(20) });
  expect(alerts.alerter.recent().map((a) => [a.kind, a.resolved, a.message])).toEqual([
    ["status", true, expect.stringMatching(/^Sync status is back to ok/)],
    ["stuck", false, "1 ledger action timed out with no receipt after 10 s: payout 0xabababab…abab (chama 2)."],
  ]);
});
