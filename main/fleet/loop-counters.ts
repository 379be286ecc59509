// What the exporters need of a loop that its session state does not keep: GC pauses by kind
// and the blocks' durations as histograms, and the probe's own time, summed from the
// messages as they arrive. Bounded: a few fixed arrays per loop.

import type { BlockedReport, GcKind, ProbeMessage } from '../../probe/wire';
import { BLOCKED_BOUNDS_S, BucketRecorder, GC_BOUNDS_S } from './buckets';

/** Ended blocks remembered, so that a report repeated for the same block is counted once. */
const ENDED_IDS_KEPT = 64;

/** Tells the first report of a block's end from a repeat of it (one that brings its stack late). */
export class EndedBlocks {
  private readonly ids: number[] = [];

  /** The report, when it is the first to say that its block ended. */
  first(message: ProbeMessage): BlockedReport | undefined {
    if (message.type !== 'blocked' || message.report.state !== 'ended' || this.ids.includes(message.report.id)) return undefined;
    this.ids.push(message.report.id);
    if (this.ids.length > ENDED_IDS_KEPT) this.ids.shift();
    return message.report;
  }
}

export class LoopCounters {
  readonly gc = new Map<GcKind, BucketRecorder>();
  readonly blocked = new BucketRecorder(BLOCKED_BOUNDS_S);
  probeMainUs = 0;
  probeWorkerUs = 0;
  private readonly ended = new EndedBlocks();

  /** Counts one message; returns the block it reports ended, the first time it does. */
  apply(message: ProbeMessage): BlockedReport | undefined {
    if (message.type === 'metrics') {
      const s = message.sample;
      this.probeMainUs += s.probeMainUs;
      this.probeWorkerUs += s.probeWorkerUs;
      for (const pause of s.gc) {
        let kind = this.gc.get(pause.kind);
        if (!kind) this.gc.set(pause.kind, (kind = new BucketRecorder(GC_BOUNDS_S)));
        kind.record(pause.durationUs / 1e6);
      }
      return undefined;
    }
    const report = this.ended.first(message);
    if (report) this.blocked.record(report.durationUs / 1e6);
    return report;
  }
}
