/**
 * Operator alerts: what ./alert-rules.ts raises is kept (the newest 20, for `/sync-health`) and
 * posted as JSON to ALERT_WEBHOOK_URL, one delivery at a time in the order raised:
 *
 * - each delivery has a timeout (ALERT_WEBHOOK_TIMEOUT_MS); a network error, a timeout, a 5xx,
 *   408 or 429 is retried after ALERT_RETRY_BASE_MS, doubled each time up to ALERT_RETRY_MAX_MS,
 *   for ALERT_MAX_ATTEMPTS deliveries in all; any other 4xx is given up at once (the receiver
 *   refuses the payload, sending it again will not help);
 * - alerts waiting for delivery are bounded (ALERT_QUEUE_SIZE): past it the oldest waiting one is
 *   dropped (and says so), so a dead webhook never grows memory;
 * - every delivery of one alert carries the same `id` and `Idempotency-Key`, so a receiver can
 *   tell a retry from a new alert.
 *
 * With replicas on one PostgreSQL only the process running the ledger's follower raises alerts
 * (`isLeader`); the others keep the rules' state up to date (so a take-over does not repeat an
 * alert already posted) but raise nothing.
 */
import { randomUUID } from "node:crypto";
import type { OpsEnv } from "../config/env";
import type { Alert, AlertingState, AlertKind, AlertPayload, ReconcileReport, SyncHealth } from "../common/ops-api";
import { errorMessage } from "../common/errors";
import { DiscrepancyRule, type NewAlert, StatusRule, StuckRule, type TimedOut } from "./alert-rules";

/** Alerts kept for `/sync-health`. */
export const RECENT_ALERTS = 20;

export type AlertSettings = Pick<OpsEnv, "alertWebhookUrl" | "alertWebhookTimeoutMs" | "alertMaxAttempts" | "alertRetryBaseMs" | "alertRetryMaxMs" | "alertQueueSize">;

/** The wait before retry `n` (1 = the first retry). */
export function retryDelayMs(settings: Pick<AlertSettings, "alertRetryBaseMs" | "alertRetryMaxMs">, n: number): number {
  return Math.min(settings.alertRetryMaxMs, settings.alertRetryBaseMs * 2 ** Math.max(0, n - 1));
}

/** The body posted for an alert. */
export function alertPayload(alert: Alert): AlertPayload {
  const { id, kind, at, message, resolved, details } = alert;
  return { id, kind, at, message, text: `[jenga] ${message}`, resolved, details };
}

type Outcome = { ok: true } | { ok: false; retry: boolean; error: string };

/** Keeps and delivers alerts. */
export class Alerter {
  private readonly keep: Alert[] = [];
  private readonly queue: Alert[] = [];
  private readonly counts = { raised: 0, delivered: 0, failed: 0, dropped: 0 };
  private readonly byKind = new Map<AlertKind, number>();
  private working: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly params: {
      settings: AlertSettings;
      /** Whether this process may raise alerts (it runs the ledger's follower, or there is no ledger). */
      isLeader: () => boolean;
      fetch?: typeof fetch;
      log?: (line: string) => void;
      now?: () => Date;
    },
  ) {}

  /** Keeps the alert and queues its delivery; undefined (nothing kept) when this process does not post. */
  raise(alert: NewAlert): Alert | undefined {
    if (this.stopped || !this.params.isLeader()) return undefined;
    const webhook = this.params.settings.alertWebhookUrl !== undefined;
    const kept: Alert = {
      id: randomUUID(),
      at: (this.params.now?.() ?? new Date()).toISOString(),
      ...alert,
      delivery: { state: webhook ? "pending" : "off", attempts: 0, lastError: null },
    };
    this.counts.raised += 1;
    this.byKind.set(alert.kind, (this.byKind.get(alert.kind) ?? 0) + 1);
    this.keep.unshift(kept);
    this.keep.length = Math.min(this.keep.length, RECENT_ALERTS);
    if (webhook) {
      if (this.queue.length >= this.params.settings.alertQueueSize) {
        const oldest = this.queue.shift()!;
        oldest.delivery = { ...oldest.delivery, state: "dropped", lastError: `the alert queue was full (ALERT_QUEUE_SIZE=${this.params.settings.alertQueueSize})` };
        this.counts.dropped += 1;
      }
      this.queue.push(kept);
      this.working ??= this.work().finally(() => {
        this.working = undefined;
      });
    }
    return { ...kept, delivery: { ...kept.delivery, attempts: 0, state: webhook ? "pending" : "off" } };
  }

  /** The newest alerts, newest first (copies). */
  recent(): Alert[] {
    return this.keep.map((a) => ({ ...a, delivery: { ...a.delivery } }));
  }

  state(): AlertingState {
    return {
      posting: this.params.isLeader(),
      webhook: this.params.settings.alertWebhookUrl !== undefined,
      ...this.counts,
      raisedByKind: { status: this.byKind.get("status") ?? 0, discrepancy: this.byKind.get("discrepancy") ?? 0, stuck: this.byKind.get("stuck") ?? 0 },
      queued: this.queue.length,
    };
  }

  /** Resolves once nothing is waiting for delivery. */
  async idle(): Promise<void> {
    while (this.working) await this.working;
  }

  /** Stops delivering (a retry wait ends at once); what is still queued stays pending. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.working;
  }

  private async work(): Promise<void> {
    const { settings } = this.params;
    while (!this.stopped) {
      const alert = this.queue.shift();
      if (!alert) return;
      for (;;) {
        alert.delivery.attempts += 1;
        const outcome = await this.post(alert);
        if (outcome.ok) {
          alert.delivery = { ...alert.delivery, state: "delivered", lastError: null };
          this.counts.delivered += 1;
          break;
        }
        alert.delivery.lastError = outcome.error;
        if (!outcome.retry || alert.delivery.attempts >= settings.alertMaxAttempts) {
          alert.delivery.state = "failed";
          this.counts.failed += 1;
          (this.params.log ?? console.warn)(
            `Alert ${alert.id} (${alert.kind}) could not be delivered to ALERT_WEBHOOK_URL after ${alert.delivery.attempts} attempts: ${outcome.error}`,
          );
          break;
        }
        await this.sleep(retryDelayMs(settings, alert.delivery.attempts));
        if (this.stopped) {
          // Back in front: still pending, never lost silently.
          this.queue.unshift(alert);
          return;
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One delivery. The URL never appears in an error: it may hold a token. */
  private async post(alert: Alert): Promise<Outcome> {
    const { settings } = this.params;
    const doFetch = this.params.fetch ?? fetch;
    try {
      const response = await doFetch(settings.alertWebhookUrl!, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": alert.id, "user-agent": "jenga-index-alerts" },
        body: JSON.stringify(alertPayload(alert)),
        signal: AbortSignal.timeout(settings.alertWebhookTimeoutMs),
        redirect: "error",
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return { ok: true };
      const retry = response.status >= 500 || response.status === 408 || response.status === 429;
      return { ok: false, retry, error: `the webhook answered HTTP ${response.status}` };
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") {
        return { ok: false, retry: true, error: `no answer within ALERT_WEBHOOK_TIMEOUT_MS (${settings.alertWebhookTimeoutMs} ms)` };
      }
      const cause = (error as { cause?: unknown }).cause;
      return { ok: false, retry: true, error: cause ? `${errorMessage(error)}: ${errorMessage(cause)}` : errorMessage(error) };
    }
  }
}

/** The rules and the Alerter together, as the ops app feeds them: every health sample, every
 * reconciliation, and (with a ledger) the records that timed out. */
export class OpsAlerts {
  readonly alerter: Alerter;
  private readonly status: StatusRule;
  private readonly discrepancy = new DiscrepancyRule();
  private stuck: StuckRule | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly params: {
      ops: OpsEnv;
      isLeader: () => boolean;
      /** The ledger's timed-out records (LedgerStore.timedOutSince); absent without a ledger. */
      timedOutSince?: (query: { since: Date; limit: number }) => Promise<TimedOut[]>;
      /** LEDGER_TIMEOUT_MS, for the stuck alert's sentence. */
      ledgerTimeoutMs?: number;
      fetch?: typeof fetch;
      log?: (line: string) => void;
    },
  ) {
    this.alerter = new Alerter({ settings: params.ops, isLeader: params.isLeader, fetch: params.fetch, log: params.log });
    this.status = new StatusRule({ debounceMs: params.ops.alertDebounceMs });
    if (params.timedOutSince) this.stuck = new StuckRule({ since: new Date(), timeoutMs: params.ledgerTimeoutMs ?? 600_000, limit: 100 });
  }

  /** LEDGER_TIMEOUT_MS once the ledger is open (the stuck alert's sentence says it). */
  setLedgerTimeout(timeoutMs: number): void {
    if (this.stuck) this.stuck.timeoutMs = timeoutMs;
  }

  /** A health sample: the status rule, and a look for newly timed-out records. */
  sampled(health: Pick<SyncHealth, "status" | "reasons" | "checkedAt">): void {
    const alert = this.status.sample({ at: Date.parse(health.checkedAt), status: health.status, reasons: health.reasons });
    if (alert) this.alerter.raise(alert);
    void this.pollStuck();
  }

  reconciled(report: ReconcileReport): void {
    const alert = this.discrepancy.reconciled(report);
    if (alert) this.alerter.raise(alert);
  }

  /** Reads the records timed out since the last look (one read at a time). */
  pollStuck(): Promise<void> {
    const { stuck } = this;
    const read = this.params.timedOutSince;
    if (!stuck || !read) return Promise.resolve();
    this.polling ??= read(stuck.query)
      .then((records) => {
        const alert = stuck.read(records);
        if (alert) this.alerter.raise(alert);
      })
      .catch((error: unknown) => (this.params.log ?? console.warn)(`Alerts: could not read the ledger's timed-out records: ${errorMessage(error)}`))
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }
}
