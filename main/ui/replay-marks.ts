// What the replay scrubber marks: every blocked loop and the longer GC pauses of a recording,
// found by one pass over its core frames. The pass runs a slice at a time (`scan(budgetMs)`),
// so a large file fills the scrubber in progressively without holding up anything else.
// Each loop of the recording (worker threads, child processes) has its own marks, on its own
// chart clock (seconds since its first sample), like its SeriesPoint.t; the pass also finds
// where each loop's clock starts.

import { MessageType, PROTOCOL_VERSION, type BlockedReport, type Hello, type MessageTypeId, type MetricsSample } from '../../probe/wire';
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
 * The chart clock maps the probe's clock onto the file's by the samples' arrival: the first
 * sample comes at a loop's start, often late on a loaded machine, so the offset is the least
 * delayed of the first few (later points would otherwise show ahead of the replay's position).
 */
const CLOCK_SAMPLES = 20;

/**
 * The chart clock of a recording: `originUs` is the session's origin on the probe's clock
 * (as view-model's originOf), and `offsetMs` maps the file's clock to the chart's:
 * chart seconds = (file ms − offsetMs) / 1000.
 */
export interface ChartClock {
  readonly originUs: number;
  readonly offsetMs: number;
}

/** The clock, from one metrics frame: it arrived at `fileMs` and ended at `sample.timeUs`. */
export function chartClockFrom(sample: MetricsSample, fileMs: number): ChartClock {
  const originUs = sample.timeUs - sample.intervalUs;
  return { originUs, offsetMs: fileMs - sample.intervalUs / 1000 };
}

/**
 * Another loop's chart clock, from loop 0's (`first`): its origin is its own first sample
 * (`originUs`, view-model's originOf of its state), and its probe clock starts at its own time
 * origin (a worker's when the worker started), so its file clock is loop 0's shifted by the
 * time between the two origins. Undefined before the loop's hello or its first sample.
 */
export function loopChartClock(first: ChartClock, firstHello: Hello | undefined, hello: Hello | undefined, originUs: number | undefined): ChartClock | undefined {
  if (!firstHello || !hello || originUs === undefined) return undefined;
  const shiftUs = (hello.timeOriginMs - firstHello.timeOriginMs) * 1000;
  return { originUs, offsetMs: first.offsetMs + (originUs + shiftUs - first.originUs) / 1000 };
}

/** Reads frames from the start until loop `loop`'s first metrics sample; undefined when there is none. */
export function findChartClock(reader: RecordingReader, loop = 0, maxFrames = 10_000): ChartClock | undefined {
  const cursor = new FrameCursor(reader, FILE_HEADER_BYTES, TYPES);
  const decoder = new ProbeDecoder();
  let clock: ChartClock | undefined;
  let samples = 0;
  for (let i = 0, f = cursor.next(); f && i < maxFrames && samples < CLOCK_SAMPLES; i++, f = cursor.next()) {
    if (f.loop !== loop || f.version !== PROTOCOL_VERSION || (f.type !== MessageType.Metrics && f.type !== MessageType.Dictionary)) continue;
    try {
      const m = decoder.decode({ type: f.type as MessageTypeId, payload: f.payload });
      if (m.type !== 'metrics') continue;
      samples++;
      const next = chartClockFrom(m.sample, f.timeMs);
      // The origin is the first sample's; the offset, the least delayed sample's.
      clock = clock === undefined ? next : { originUs: clock.originUs, offsetMs: Math.min(clock.offsetMs, next.offsetMs - (next.originUs - clock.originUs) / 1000) };
    } catch {
      // An undecodable frame is reported by the player; the clock comes from the next one.
    }
  }
  return clock;
}

/** A mark on the loop's own probe clock, before its chart clock is known. */
interface RawMark {
  readonly kind: ReplayMark['kind'];
  readonly startUs: number;
  readonly durationMs: number;
  readonly id?: number;
  /** File time of its first report. */
  readonly reportedMs?: number;
}

/** A loop's blocks that ended, by report id: their final reports, as far as the scan has come. */
export interface FinalReports {
  readonly reports: ReadonlyMap<number, BlockedReport>;
  /** Moves on with each change of `reports`. */
  readonly version: number;
}

const NO_FINALS: FinalReports = { reports: new Map(), version: 0 };

/** What the scan found of one loop: frames decode against the loop's own dictionary. */
class LoopMarks {
  readonly decoder = new ProbeDecoder();
  readonly blocked = new Map<number, RawMark>();
  /** Only for the blocks marked: pruned with them. */
  readonly finals = new Map<number, BlockedReport>();
  finalsVersion = 0;
  gc: RawMark[] = [];
  /** Its first sample's start (view-model's originOf for the loop's state); undefined before. */
  originUs: number | undefined;
  private cached: { readonly originUs: number; readonly offsetMs: number; readonly marks: readonly ReplayMark[] } | undefined;

  changed(): void {
    this.cached = undefined;
  }

  marks(originUs: number, offsetMs: number): readonly ReplayMark[] {
    if (this.cached?.originUs !== originUs || this.cached.offsetMs !== offsetMs) {
      const kept = [...keepLongest([...this.blocked.values()], MAX_BLOCKED_MARKS), ...keepLongest(this.gc, MAX_GC_MARKS)];
      const marks = kept.map((m): ReplayMark => ({
        kind: m.kind, t: (m.startUs - originUs) / 1e6, durationMs: m.durationMs,
        ...(m.id === undefined ? {} : { id: m.id }),
        ...(m.reportedMs === undefined ? {} : { reportedT: (m.reportedMs - offsetMs) / 1000 }),
      })).sort((a, b) => a.t - b.t);
      this.cached = { originUs, offsetMs, marks };
    }
    return this.cached.marks;
  }
}

export class ReplayMarkScanner {
  private readonly cursor: FrameCursor;
  private readonly loops = new Map<number, LoopMarks>();
  private lastMs = 0;
  private finished = false;

  constructor(private readonly reader: RecordingReader) {
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

  /**
   * Loop `loop`'s blocked loops and GC pauses, in time order, on the chart clock whose origin
   * is `originUs` and whose offset from the file's clock is `offsetMs` (ChartClock).
   */
  marks(loop: number, originUs: number, offsetMs: number): readonly ReplayMark[] {
    return this.loops.get(loop)?.marks(originUs, offsetMs) ?? [];
  }

  /** Loop `loop`'s final reports found so far. */
  finalReports(loop: number): FinalReports {
    const l = this.loops.get(loop);
    return l ? { reports: l.finals, version: l.finalsVersion } : NO_FINALS;
  }

  /** Where loop `loop`'s chart clock starts on its probe's clock, once the scan has come to its first sample. */
  originOf(loop: number): number | undefined {
    return this.loops.get(loop)?.originUs;
  }

  /** Scans on for about `budgetMs`; returns true when it found new marks. */
  scan(budgetMs: number): boolean {
    // A file still being written: what the replay has read of it since may hold more.
    if (this.finished && !this.reader.complete) this.finished = false;
    const until = performance.now() + budgetMs;
    let found = false;
    while (!this.finished && performance.now() < until) {
      // Frames between two clock reads: the clock costs more than a small frame.
      for (let i = 0; i < 64; i++) {
        const f = this.cursor.next();
        if (!f) {
          this.finished = true;
          break;
        }
        this.lastMs = f.timeMs;
        if (f.version === PROTOCOL_VERSION && this.take(f.loop, f.type as MessageTypeId, f.payload, f.timeMs)) found = true;
      }
    }
    return found;
  }

  /** True when the frame adds a mark. Loop numbers are below MAX_LOOPS (the reader checks), which bounds the loops kept. */
  private take(loop: number, type: MessageTypeId, payload: Uint8Array, fileMs: number): boolean {
    let l = this.loops.get(loop);
    if (!l) {
      l = new LoopMarks();
      this.loops.set(loop, l);
    }
    let m;
    try {
      m = l.decoder.decode({ type, payload });
    } catch {
      return false; // the player reports undecodable frames
    }
    if (m.type === 'blocked') {
      const r = m.report;
      if (r.state === 'cancelled') l.blocked.delete(r.id);
      else l.blocked.set(r.id, { kind: 'blocked', startUs: r.startUs, durationMs: r.durationUs / 1000, id: r.id, reportedMs: l.blocked.get(r.id)?.reportedMs ?? fileMs });
      if (r.state === 'ended') l.finals.set(r.id, r);
      else l.finals.delete(r.id);
      l.finalsVersion++;
      // Reports are small, but a pathological recording has millions: keep the longest.
      if (l.blocked.size > 4 * MAX_BLOCKED_MARKS) {
        const keep = new Set(keepLongest([...l.blocked.values()], MAX_BLOCKED_MARKS));
        for (const [id, b] of l.blocked) {
          if (keep.has(b)) continue;
          l.blocked.delete(id);
          l.finals.delete(id);
        }
      }
      l.changed();
      return true;
    }
    if (m.type !== 'metrics') return false;
    l.originUs ??= m.sample.timeUs - m.sample.intervalUs;
    const before = l.gc.length;
    for (const g of m.sample.gc) {
      if (g.durationUs >= GC_MARK_MIN_MS * 1000) l.gc.push({ kind: 'gc', startUs: g.startUs, durationMs: g.durationUs / 1000 });
    }
    if (l.gc.length > 2 * MAX_GC_MARKS) l.gc = keepLongest(l.gc, MAX_GC_MARKS);
    if (l.gc.length === before) return false;
    l.changed();
    return true;
  }
}

/** The `n` longest marks, in their original order. */
export function keepLongest<M extends { readonly durationMs: number }>(marks: readonly M[], n: number): M[] {
  if (marks.length <= n) return [...marks];
  const cut = [...marks].sort((a, b) => b.durationMs - a.durationMs)[n - 1]!.durationMs;
  // The n-th longest's ties: the first of them, as many as fit.
  let ties = n - marks.filter((m) => m.durationMs > cut).length;
  return marks.filter((m) => m.durationMs > cut || (m.durationMs === cut && ties-- > 0));
}
