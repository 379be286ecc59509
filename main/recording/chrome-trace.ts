// Converts a session's messages to Chrome's Trace Event Format (JSON), which Perfetto and
// chrome://tracing open: counters for lag, utilization and memory; slices for GC pauses and
// blocked loops (stack in the args); in trace recordings, each callback as a slice named by
// its resource type with its async id in the args. Pure: messages in, events out, with bounded
// memory (only blocks still ongoing, callbacks still open and live resources' types are kept).
//
// Times are the target's own monotonic clock (µs since its time origin), as the probe sends them.

import { TaskEventKind, type BlockedReport, type Hello, type ProbeMessage, type TaskEventBatch } from '../../probe/wire';
import { formatFrame } from '../terminal/format';

export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'C' | 'M' | 'i';
  readonly ts: number;
  readonly pid: number;
  readonly tid: number;
  readonly cat?: string;
  readonly dur?: number;
  readonly s?: 't' | 'p' | 'g';
  readonly args?: Readonly<Record<string, unknown>>;
}

/** Tracks (threads, in the viewer) the events go on, so that slices on each nest properly. */
export const TRACKS = { callbacks: 1, blocked: 2, gc: 3 } as const;
const TRACK_NAMES: Readonly<Record<number, string>> = { [TRACKS.callbacks]: 'main thread: callbacks', [TRACKS.blocked]: 'event loop blocked', [TRACKS.gc]: 'GC' };
const MAX_TYPES_KEPT = 200_000;
const MAX_OPEN_CALLBACKS = 10_000;
const MB = 1024 * 1024;

export class ChromeTraceBuilder {
  private pid = 0;
  private readonly ongoing = new Map<number, BlockedReport>();
  private readonly types = new Map<number, string>();
  private readonly open: { asyncId: number; startUs: number }[] = [];
  private cwd = '';

  /** The events for one message, in order. */
  add(message: ProbeMessage): TraceEvent[] {
    switch (message.type) {
      case 'hello':
        return this.hello(message.hello);
      case 'metrics': {
        const s = message.sample;
        const at = { ts: s.timeUs, pid: this.pid, tid: 0, ph: 'C' as const };
        return [
          { ...at, name: 'event loop lag (ms)', args: { p50: s.lag.p50Us / 1000, p99: s.lag.p99Us / 1000, max: s.lag.maxUs / 1000 } },
          { ...at, name: 'event loop utilization (%)', args: { utilization: Math.round(s.utilization * 1000) / 10 } },
          { ...at, name: 'memory (MB)', args: { heapUsed: s.heapUsedBytes / MB, heapTotal: s.heapTotalBytes / MB, rss: s.rssBytes / MB } },
          ...s.gc.map((g): TraceEvent => ({
            name: `GC (${g.kind})`, cat: 'gc', ph: 'X', ts: g.startUs, dur: g.durationUs, pid: this.pid, tid: TRACKS.gc,
          })),
        ];
      }
      case 'blocked':
        return this.blocked(message.report);
      case 'taskEvents':
        return this.callbacks(message.batch);
      default:
        return [];
    }
  }

  /** Blocks still ongoing when the recording ended, as slices up to where they were seen. */
  finish(): TraceEvent[] {
    const events = [...this.ongoing.values()].map((r) => this.blockedSlice(r, true));
    this.ongoing.clear();
    return events;
  }

  private hello(h: Hello): TraceEvent[] {
    this.pid = h.pid;
    this.cwd = h.cwd;
    const meta = (name: string, tid: number, args: Record<string, unknown>): TraceEvent => ({ name, ph: 'M', ts: 0, pid: h.pid, tid, args });
    const script = h.argv[1] ?? h.title;
    return [
      meta('process_name', 0, { name: `node ${script} (pid ${h.pid})` }),
      meta('process_labels', 0, { labels: `node ${h.nodeVersion}, ${h.config.mode} mode` }),
      ...Object.entries(TRACK_NAMES).map(([tid, name]) => meta('thread_name', Number(tid), { name })),
    ];
  }

  private blocked(r: BlockedReport): TraceEvent[] {
    const previous = this.ongoing.get(r.id);
    // Later reports of a block may come without the stack an earlier one carried.
    const report = r.stack.length === 0 && previous && previous.stack.length > 0 ? { ...r, stack: previous.stack } : r;
    if (r.state === 'ongoing') {
      this.ongoing.set(r.id, report);
      return [];
    }
    this.ongoing.delete(r.id);
    return r.state === 'ended' ? [this.blockedSlice(report, false)] : [];
  }

  private blockedSlice(r: BlockedReport, ongoing: boolean): TraceEvent {
    return {
      name: 'event loop blocked', cat: 'blocked', ph: 'X', ts: r.startUs, dur: r.durationUs, pid: this.pid, tid: TRACKS.blocked,
      args: {
        durationMs: r.durationUs / 1000,
        stack: r.stack.map((f) => formatFrame(f, this.cwd)),
        ...(r.stackError === undefined ? {} : { stackError: r.stackError }),
        ...(ongoing ? { ongoing: 'still blocked when the recording ended' } : {}),
      },
    };
  }

  private callbacks(b: TaskEventBatch): TraceEvent[] {
    const events: TraceEvent[] = [];
    for (let i = 0; i < b.count; i++) {
      const asyncId = b.asyncIds[i]!;
      const t = b.timesUs[i]!;
      switch (b.kinds[i]) {
        case TaskEventKind.init:
          if (this.types.size < MAX_TYPES_KEPT) this.types.set(asyncId, b.types.get(b.typeIds[i]!) ?? 'unknown');
          break;
        case TaskEventKind.destroy:
          this.types.delete(asyncId);
          break;
        case TaskEventKind.before:
          if (this.open.length < MAX_OPEN_CALLBACKS) this.open.push({ asyncId, startUs: t });
          break;
        case TaskEventKind.after: {
          const open = this.open.pop();
          if (!open) break;
          events.push({
            name: this.types.get(open.asyncId) ?? 'callback', cat: 'callback', ph: 'X', ts: open.startUs, dur: Math.max(0, t - open.startUs),
            pid: this.pid, tid: TRACKS.callbacks, args: { asyncId: open.asyncId },
          });
          break;
        }
      }
    }
    return events;
  }
}
