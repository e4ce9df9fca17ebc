/**
 * When an operator is alerted: one alert per change, never one per sample. Free of I/O (the
 * timed-out records are handed in), so every rule is tested on its own (test/alerts.test.ts);
 * ./alerts.ts delivers what these rules raise.
 *
 * - status: a new overall status is announced once every sample for ALERT_DEBOUNCE_MS has
 *   differed from the one announced last (a flapping sample resets the wait, a held change is
 *   always announced, with the latest status); back to `ok` is `resolved`;
 * - discrepancy: a reconciliation with differences after a clean one, or with a different number
 *   of them; the first clean one after differences is `resolved`;
 * - stuck: ledger records newly failed as timed out, one alert per batch, each record once.
 */
import type { AlertKind, HealthStatus, ReconcileReport } from "../common/ops-api";

/** What a rule raises; ./alerts.ts adds the id, the time and the delivery. */
export type NewAlert = { kind: AlertKind; message: string; resolved: boolean; details: Record<string, unknown> };

/** Overall status changes, debounced. The process starts from `ok` announced: a status other
 * than ok that holds for the debounce after a start is announced too. */
export class StatusRule {
  announced: HealthStatus;
  private announcedAt: number;
  private streak: { since: number; seen: Set<HealthStatus> } | undefined;

  constructor(private readonly params: { debounceMs: number; initial?: HealthStatus; now?: number }) {
    this.announced = params.initial ?? "ok";
    this.announcedAt = params.now ?? Date.now();
  }

  /** One sample: an alert when this sample completes a held change. */
  sample(params: { at: number; status: HealthStatus; reasons: string[] }): NewAlert | undefined {
    const { at, status, reasons } = params;
    if (status === this.announced) {
      this.streak = undefined;
      return undefined;
    }
    this.streak ??= { since: at, seen: new Set() };
    this.streak.seen.add(status);
    if (at - this.streak.since < this.params.debounceMs) return undefined;
    const from = this.announced;
    const heldSeconds = Math.round((this.streak.since - this.announcedAt) / 1_000);
    const seen = [...this.streak.seen];
    const since = new Date(this.streak.since).toISOString();
    this.announced = status;
    this.announcedAt = this.streak.since;
    this.streak = undefined;
    const resolved = status === "ok";
    return {
      kind: "status",
      resolved,
      message: resolved
        ? `Sync status is back to ok (it was ${from} for ${heldSeconds} s).`
        : `Sync status changed from ${from} to ${status}: ${reasons[0] ?? "no reason given"}.`,
      details: { from, to: status, reasons, since, seen },
    };
  }
}

/** Reconciliations with differences, and the first clean one after them. */
export class DiscrepancyRule {
  private lastCount = 0;

  reconciled(report: Pick<ReconcileReport, "block" | "discrepancyCount" | "discrepancies">): NewAlert | undefined {
    const count = report.discrepancyCount;
    const before = this.lastCount;
    this.lastCount = count;
    if (count === before) return undefined;
    if (count === 0) {
      return {
        kind: "discrepancy",
        resolved: true,
        message: `The reconciliation at block ${report.block} found the index and the ledger equal to the chain again (${before} differences before).`,
        details: { block: report.block, discrepancyCount: 0, before },
      };
    }
    const byTable: Record<string, number> = {};
    for (const d of report.discrepancies) byTable[d.table] = (byTable[d.table] ?? 0) + 1;
    const tables = Object.entries(byTable).map(([table, n]) => `${n} ${table}`).join(", ");
    return {
      kind: "discrepancy",
      resolved: false,
      message: `The reconciliation at block ${report.block} found ${count} differences from the chain${tables ? ` (${tables}${report.discrepancies.length < count ? ", of those listed" : ""})` : ""}.`,
      details: { block: report.block, discrepancyCount: count, before, byTable, first: report.discrepancies.slice(0, 5) },
    };
  }
}

/** A ledger record failed as timed out, as the stuck rule needs it. */
export type TimedOut = { hash: string; kind: string; chamaId: bigint | null; from: string; amount: bigint; sentAt: Date | null; updatedAt: Date };

const short = (hash: string) => `${hash.slice(0, 10)}…${hash.slice(-4)}`;

/** Ledger records newly timed out. Keeps a cursor (the newest `updatedAt` seen) and the hashes
 * seen at it, so each record is in one alert only. */
export class StuckRule {
  private cursor: Date;
  private seenAtCursor = new Set<string>();

  /** LEDGER_TIMEOUT_MS, for the sentence. */
  timeoutMs: number;

  constructor(private readonly params: { since: Date; timeoutMs: number; limit: number }) {
    this.cursor = params.since;
    this.timeoutMs = params.timeoutMs;
  }

  /** Where the next read starts (`timedOutSince({ since, limit })`). */
  get query(): { since: Date; limit: number } {
    return { since: this.cursor, limit: this.params.limit };
  }

  /** The records read from `query`: an alert for the ones not seen before. */
  read(records: TimedOut[]): NewAlert | undefined {
    const fresh = records.filter((r) => !(r.updatedAt.getTime() === this.cursor.getTime() && this.seenAtCursor.has(r.hash)) && r.updatedAt >= this.cursor);
    for (const r of records) {
      if (r.updatedAt > this.cursor) {
        this.cursor = r.updatedAt;
        this.seenAtCursor = new Set();
      }
      if (r.updatedAt.getTime() === this.cursor.getTime()) this.seenAtCursor.add(r.hash);
    }
    // A full page of one millisecond, all seen: step past it rather than read it forever.
    if (fresh.length === 0 && records.length >= this.params.limit) {
      this.cursor = new Date(this.cursor.getTime() + 1);
      this.seenAtCursor = new Set();
    }
    if (fresh.length === 0) return undefined;
    const seconds = Math.round(this.timeoutMs / 1_000);
    const names = fresh.slice(0, 5).map((r) => `${r.kind} ${short(r.hash)}${r.chamaId === null ? "" : ` (chama ${r.chamaId})`}`);
    return {
      kind: "stuck",
      resolved: false,
      message:
        `${fresh.length} ledger ${fresh.length === 1 ? "action" : "actions"} timed out with no receipt after ${seconds} s: ` +
        `${names.join(", ")}${fresh.length > names.length ? `, and ${fresh.length - names.length} more` : ""}.`,
      details: {
        count: fresh.length,
        timeoutMs: this.timeoutMs,
        hashes: fresh.map((r) => r.hash),
        transactions: fresh.slice(0, 20).map((r) => ({
          hash: r.hash,
          kind: r.kind,
          chamaId: r.chamaId === null ? null : r.chamaId.toString(),
          from: r.from,
          amount: r.amount.toString(),
          sentAt: r.sentAt?.toISOString() ?? null,
          failedAt: r.updatedAt.toISOString(),
        })),
      },
    };
  }
}
