/** The lag samples behind `/sync-health`'s `lagHistory`: the data for a lag chart. */
import type { SyncHealth } from "../common/ops-api";

const HOUR_MS = 3_600_000;

type LagSample = { at: number; blocks: number; seconds: number };

/** Lag samples over the last hour, oldest first: one per sampling interval, however often
 * `/sync-health` is asked. */
export class LagHistory {
  private samples: LagSample[] = [];

  constructor(private readonly params: { sampleIntervalMs: number }) {}

  /** Records the lag seen at `at` (none when the chain or the index was not read), unless a sample
   * was taken less than half an interval ago, and forgets samples older than an hour. */
  record(params: { at: number; lag: SyncHealth["lag"] }): void {
    const { at, lag } = params;
    if (lag) {
      const previous = this.samples[this.samples.length - 1];
      if (!previous || at - previous.at >= this.params.sampleIntervalMs / 2) this.samples.push({ at, blocks: lag.blocks, seconds: lag.seconds });
    }
    this.samples = this.samples.filter((s) => s.at >= at - HOUR_MS);
  }

  toJSON(): SyncHealth["lagHistory"] {
    return this.samples.map((s) => ({ at: new Date(s.at).toISOString(), blocks: s.blocks, seconds: s.seconds }));
  }
}
