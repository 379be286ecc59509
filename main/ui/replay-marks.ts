// What the replay scrubber marks: every blocked loop and the longer GC pauses of a recording,
// found by one pass over its core frames. The pass runs a slice at a time (`scan(budgetMs)`),
// so a large file fills the scrubber in progressively without holding up anything else.
// Marks are on the session's chart clock (seconds since its first sample), like SeriesPoint.t.

import { MessageType, PROTOCOL_VERSION, type MessageTypeId, type MetricsSample } from '../../probe/wire';
import { ProbeDecoder } from '../../probe/wire-decoder';
import type { ReplayMark } from './ui-api';
import { FILE_HEADER_BYTES } from '../recording/format';
import { FrameCursor, type RecordingReader } from '../recording/recording-reader';

/** Shorter GC pauses are everywhere in a busy process; the scrubber marks the ones worth a look. */
export const GC_MARK_MIN_MS = 10;
/**
 * Marks are sent with every update of a replayed session, and a scrubber has about a thousand
 * pixel columns: beyond these, the shortest marks of a kind give way to longer ones.
 */
const MAX_GC_MARKS = 1000;
const MAX_BLOCKED_MARKS = 1000;
const TYPES: readonly number[] = [MessageType.Metrics, MessageType.Blocked, MessageType.Dictionary];

/**
 * The chart clock of a recording: `originUs` is the session's origin on the probe's clock
 * (as view-model's originOf), and `offsetMs` maps the file's clock to the chart's:
 * chart seconds = (file ms − offsetMs) / 1000.
 */
export interface ChartClock {
  readonly originUs: number;
  readonly offsetMs: number;
}

/** The clock, from the first metrics frame: it arrived at `fileMs` and ended at `sample.timeUs`. */
export function chartClockFrom(sample: MetricsSample, fileMs: number): ChartClock {
  const originUs = sample.timeUs - sample.intervalUs;
  return { originUs, offsetMs: fileMs - sample.intervalUs / 1000 };
}

/** Reads frames from the start until the first metrics sample; undefined when there is none. */
export function findChartClock(reader: RecordingReader, maxFrames = 10_000): ChartClock | undefined {
  const cursor = new FrameCursor(reader, FILE_HEADER_BYTES, TYPES);
  const decoder = new ProbeDecoder();
  for (let i = 0, f = cursor.next(); f && i < maxFrames; i++, f = cursor.next()) {
    if (f.version !== PROTOCOL_VERSION || (f.type !== MessageType.Metrics && f.type !== MessageType.Dictionary)) continue;
    try {
      const m = decoder.decode({ type: f.type as MessageTypeId, payload: f.payload });
      if (m.type === 'metrics') return chartClockFrom(m.sample, f.timeMs);
    } catch {
      // An undecodable frame is reported by the player; the clock comes from the next one.
    }
  }
  return undefined;
}

export class ReplayMarkScanner {
  private readonly cursor: FrameCursor;
  private readonly decoder = new ProbeDecoder();
  private readonly blocked = new Map<number, ReplayMark>();
  private gc: ReplayMark[] = [];
  private lastMs = 0;
  private finished = false;
  private cached: readonly ReplayMark[] | undefined = [];

  constructor(private readonly reader: RecordingReader, private readonly clock: ChartClock) {
    this.cursor = new FrameCursor(reader, FILE_HEADER_BYTES, TYPES);
  }

  get done(): boolean {
    return this.finished;
  }

  /** 0..1: how far into the recording's time the scan has come. */
  get progress(): number {
    if (this.finished) return 1;
    const { firstMs, endMs } = this.reader.info;
    return endMs > firstMs ? Math.min(0.99, Math.max(0, (this.lastMs - firstMs) / (endMs - firstMs))) : 0;
  }

  /** Blocked loops and GC pauses, in time order. */
  get marks(): readonly ReplayMark[] {
    this.cached ??= [...keepLongest([...this.blocked.values()], MAX_BLOCKED_MARKS), ...keepLongest(this.gc, MAX_GC_MARKS)].sort((a, b) => a.t - b.t);
    return this.cached;
  }

  /** Scans on for about `budgetMs`; returns true when it found new marks. */
  scan(budgetMs: number): boolean {
    // A file still being written: what the replay has read of it since may hold more.
    if (this.finished && !this.reader.complete) this.finished = false;
    const until = performance.now() + budgetMs;
    const before = this.blocked.size + this.gc.length;
    while (!this.finished && performance.now() < until) {
      // Frames between two clock reads: the clock costs more than a small frame.
      for (let i = 0; i < 64; i++) {
        const f = this.cursor.next();
        if (!f) {
          this.finished = true;
          break;
        }
        this.lastMs = f.timeMs;
        if (f.version === PROTOCOL_VERSION) this.take(f.type as MessageTypeId, f.payload);
      }
    }
    const found = this.blocked.size + this.gc.length !== before;
    if (found) this.cached = undefined;
    return found;
  }

  private take(type: MessageTypeId, payload: Uint8Array): void {
    let m;
    try {
      m = this.decoder.decode({ type, payload });
    } catch {
      return; // the player reports undecodable frames
    }
    const toS = (us: number): number => (us - this.clock.originUs) / 1e6;
    if (m.type === 'blocked') {
      const r = m.report;
      if (r.state === 'cancelled') this.blocked.delete(r.id);
      else this.blocked.set(r.id, { kind: 'blocked', t: toS(r.startUs), durationMs: r.durationUs / 1000 });
      // Reports are small, but a pathological recording has millions: keep the longest.
      if (this.blocked.size > 4 * MAX_BLOCKED_MARKS) {
        const kept = keepLongest([...this.blocked.values()], MAX_BLOCKED_MARKS);
        const keep = new Set(kept);
        for (const [id, m] of this.blocked) if (!keep.has(m)) this.blocked.delete(id);
      }
    } else if (m.type === 'metrics') {
      for (const g of m.sample.gc) {
        if (g.durationUs >= GC_MARK_MIN_MS * 1000) this.gc.push({ kind: 'gc', t: toS(g.startUs), durationMs: g.durationUs / 1000 });
      }
      if (this.gc.length > 2 * MAX_GC_MARKS) this.gc = keepLongest(this.gc, MAX_GC_MARKS);
    }
  }
}

/** The `n` longest marks, in their original order. */
export function keepLongest(marks: readonly ReplayMark[], n: number): ReplayMark[] {
  if (marks.length <= n) return [...marks];
  const cut = [...marks].sort((a, b) => b.durationMs - a.durationMs)[n - 1]!.durationMs;
  const out: ReplayMark[] = [];
  for (const m of marks) if (m.durationMs > cut && out.length < n) out.push(m);
  for (const m of marks) if (m.durationMs === cut && out.length < n) out.push(m);
  return out.sort((a, b) => a.t - b.t);
}
