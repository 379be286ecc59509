// Converts a session's messages to Chrome's Trace Event Format (JSON), which Perfetto and
// chrome://tracing open: counters for lag, utilization and memory; slices for GC pauses and
// blocked loops (in the args: the stack, where it came from, what the block's samples ran);
// the CPU samples, on the blocked loop's track, as V8's own traces carry them (a "Profile"
// event, then "ProfileChunk" events of new nodes and samples);
// in trace recordings, each callback as a slice named by its resource type with its async id
// in the args. Pure: messages in, events out, with bounded memory (only blocks still ongoing,
// callbacks still open or nested in an open one, live resources' types and the profile's
// current dictionary are kept).
//
// Times are the target's own monotonic clock (µs since its time origin), as the probe sends them.
//
// Every loop of a session has its own builder, and its own tracks: tids of its own across the
// whole trace (loop number × 4 + track: viewers take a tid met again under another pid for a
// new thread), a worker's counters named after it (counters are per process in Perfetto), and a
// child process is a process of its own. Each
// loop counts time from its own origin (a worker's is its thread's start), so each builder
// shifts its times onto the first loop's clock (TraceClock), where the loops line up.
//
// What Perfetto's JSON importer needs (its tokenizer and parser, and the format's spec), kept
// here because the export is only useful if it opens there:
// - pid and tid are integers; tid 0 is the idle task in Perfetto's model, so no event uses it
//   (counters are per process: they go on the main thread, tid = pid).
// - 'X' slices on one thread must nest; slices sharing a start must come longest first (older
//   importers keep the file's order for equal times). A callback's slices are emitted when its
//   outermost callback ends, in start order.
// - 'C' args are numbers; 'X' durations are numbers ≥ 0.
// - Text: its tokenizer fails the whole file on a raw control character in an event's
//   top-level string (JSON.stringify leaves DEL raw), and older ones on any \u escape; its
//   JSON parser drops an event holding an escaped lone surrogate. So text from the target
//   (type names, stacks, argv) is cleaned first.
// - The file: `traceEvents` first (older importers stop at the first top-level key they do
//   not know), no `displayTimeUnit` (some versions took "ms" as the unit of `ts`).

import { TaskEventKind, type BlockedReport, type Hello, type ProbeMessage, type ProfileBatch, type ProfileDictionary, type ProfileFrame, type TaskEventBatch } from '../../probe/wire';
import { blockSamplesText } from '../common/block-samples-text';
import { formatFrame } from '../common/format';
import { loopName } from '../session/loop-identity';
import { scriptUrl } from './cpuprofile';

export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'C' | 'M' | 'i' | 'P';
  readonly ts: number;
  readonly pid: number;
  readonly tid: number;
  readonly cat?: string;
  readonly dur?: number;
  readonly s?: 't' | 'p' | 'g';
  /** Sample events ("P"): which profile they belong to. */
  readonly id?: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

/** Tracks (threads, in the viewer) the slices of a main thread's loop go on, so that slices on each nest properly. */
export const TRACKS = { callbacks: 1, blocked: 2, gc: 3 } as const;
const TRACK_NAMES: Readonly<Record<number, string>> = { [TRACKS.callbacks]: 'main thread: callbacks', [TRACKS.blocked]: 'event loop blocked', [TRACKS.gc]: 'GC' };
/** A worker's, after its name. */
const WORKER_TRACK_NAMES: Readonly<Record<number, string>> = { [TRACKS.callbacks]: 'callbacks', [TRACKS.blocked]: 'event loop blocked', [TRACKS.gc]: 'GC' };
/** A loop's tracks are its loop number × this + track: no two loops share one. */
const TRACKS_PER_LOOP = 4;

/** The clock every loop's times are put on: the time origin of the first loop that said hello. */
export interface TraceClock {
  originMs: number | undefined;
}
const MAX_TYPES_KEPT = 200_000;
const MAX_OPEN_CALLBACKS = 10_000;
/** Slices nested in a callback still running, waiting to be emitted in order with it. */
const MAX_NESTED_KEPT = 10_000;
/** Blocks seen ongoing and not ended yet: a probe has one at a time (as the session state keeps). */
const MAX_ONGOING_KEPT = 16;
const MB = 1024 * 1024;
/** Perfetto needs a pid ≥ 1 (0 is the idle task); this one stands for a target whose pid is unknown. */
const UNKNOWN_PID = 1;

/**
 * Text from the target as a trace viewer reads it safely: control characters (C0 and DEL) and
 * lone surrogates, which JSON would carry as escapes, become U+FFFD.
 */
export function traceText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Parents before children: by start, and the longer first when two start together. */
const startOrder = (a: TraceEvent, b: TraceEvent): number => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0);

export class ChromeTraceBuilder {
  /** The target's pid; until a hello says it (its frame may be lost to damage), a stand-in. */
  private pid = UNKNOWN_PID;
  /** The loop's thread: 0 for a process's main thread. */
  private thread = 0;
  /** Added to the loop's times to put them on the trace's clock. */
  private shiftUs = 0;
  /** Before the names of a worker's counters. */
  private counterPrefix = '';
  private readonly ongoing = new Map<number, BlockedReport>();
  private readonly types = new Map<number, string>();
  private readonly open: { asyncId: number; startUs: number }[] = [];
  private nested: TraceEvent[] = [];
  private cwd = '';
  /** The probe's profile frames and nodes (since its last reset), the nodes as emitted ids. */
  private readonly profileFrames = new Map<number, ProfileFrame>();
  private readonly profileNodes = new Map<number, number>();
  /** Nodes defined since the last chunk: they go out with the next. */
  private newNodes: { id: number; parent: number; callFrame: Record<string, unknown> }[] = [];
  private nextNodeId = 2;
  private lastSampleUs: number | undefined;

  /** `clock`: shared by the builders of a session's loops; `loop`: the loop's number in the recording. */
  constructor(private readonly clock: TraceClock = { originMs: undefined }, private readonly loop = 0) {}

  private tid(track: number): number {
    return this.loop * TRACKS_PER_LOOP + track;
  }

  /** The events for one message, in order. */
  add(message: ProbeMessage): TraceEvent[] {
    switch (message.type) {
      case 'hello':
        return this.hello(message.hello);
      case 'metrics': {
        const s = message.sample;
        const at = { ts: s.timeUs + this.shiftUs, pid: this.pid, tid: this.pid, ph: 'C' as const };
        const p = this.counterPrefix;
        return [
          // One value per counter: chrome://tracing stacks the values of one counter event.
          { ...at, name: `${p}lag p50`, args: { ms: s.lag.p50Us / 1000 } },
          { ...at, name: `${p}lag p99`, args: { ms: s.lag.p99Us / 1000 } },
          { ...at, name: `${p}lag max`, args: { ms: s.lag.maxUs / 1000 } },
          { ...at, name: `${p}event loop utilization (%)`, args: { utilization: Math.round(s.utilization * 1000) / 10 } },
          { ...at, name: `${p}heap used`, args: { MB: s.heapUsedBytes / MB } },
          { ...at, name: `${p}heap total`, args: { MB: s.heapTotalBytes / MB } },
          // One process's memory: its main loop says it.
          ...(this.thread === 0 ? [{ ...at, name: 'rss', args: { MB: s.rssBytes / MB } }] : []),
          ...s.gc.map((g): TraceEvent => ({
            name: `GC (${g.kind})`, cat: 'gc', ph: 'X', ts: g.startUs + this.shiftUs, dur: Math.max(0, g.durationUs), pid: this.pid, tid: this.tid(TRACKS.gc),
          })),
        ];
      }
      case 'blocked':
        return this.blocked(message.report);
      case 'taskEvents':
        return this.callbacks(message.batch);
      case 'profileDictionary':
        this.profileDictionary(message.dictionary);
        return [];
      case 'profileSamples':
        return this.profileChunk(message.batch);
      default:
        return [];
    }
  }

  /**
   * Blocks still ongoing when the recording ended, as slices up to where they were seen, and
   * the callbacks that ended inside one that never did.
   */
  finish(): TraceEvent[] {
    const events = [...this.ongoing.values()].map((r) => this.blockedSlice(r, true));
    this.ongoing.clear();
    const nested = this.nested.sort(startOrder);
    this.nested = [];
    return [...events, ...nested];
  }

  private hello(h: Hello): TraceEvent[] {
    // Any number can come from a file: only a real pid is used as one.
    this.pid = Number.isInteger(h.pid) && h.pid >= 1 && h.pid <= 0xffff_ffff ? h.pid : UNKNOWN_PID;
    this.thread = Number.isInteger(h.threadId) && h.threadId >= 0 ? h.threadId : 0;
    const origin = Number.isFinite(h.timeOriginMs) ? h.timeOriginMs : 0;
    this.clock.originMs ??= origin;
    this.shiftUs = (origin - this.clock.originMs) * 1000;
    this.cwd = h.cwd;
    const meta = (name: string, tid: number, args: Record<string, unknown>): TraceEvent => ({ name, ph: 'M', ts: 0, pid: this.pid, tid, args });
    const tracks = (names: Readonly<Record<number, string>>, prefix: string): TraceEvent[] =>
      Object.entries(names).map(([track, name]) => meta('thread_name', this.tid(Number(track)), { name: `${prefix}${name}` }));
    if (this.thread > 0) {
      this.counterPrefix = `${traceText(loopName(h))}: `;
      return tracks(WORKER_TRACK_NAMES, this.counterPrefix);
    }
    const script = traceText(h.argv[1] ?? h.title);
    return [
      // Viewers add the pid to the name themselves, and split labels at commas.
      meta('process_name', this.pid, { name: `node ${script}` }),
      meta('process_labels', this.pid, { labels: traceText(`node ${h.nodeVersion},${h.config.mode} mode`) }),
      ...tracks(TRACK_NAMES, ''),
    ];
  }

  private blocked(r: BlockedReport): TraceEvent[] {
    const previous = this.ongoing.get(r.id);
    // Later reports of a block may come without the stack an earlier one carried.
    const report = r.stack.length === 0 && previous && previous.stack.length > 0 ? { ...r, stack: previous.stack } : r;
    if (r.state === 'ongoing') {
      if (previous || this.ongoing.size < MAX_ONGOING_KEPT) this.ongoing.set(r.id, report);
      return [];
    }
    this.ongoing.delete(r.id);
    return r.state === 'ended' ? [this.blockedSlice(report, false)] : [];
  }

  private blockedSlice(r: BlockedReport, ongoing: boolean): TraceEvent {
    const samples = blockSamplesText(r);
    return {
      name: 'event loop blocked', cat: 'blocked', ph: 'X', ts: r.startUs + this.shiftUs, dur: Math.max(0, r.durationUs), pid: this.pid, tid: this.tid(TRACKS.blocked),
      args: {
        durationMs: r.durationUs / 1000,
        stack: r.stack.map((f) => traceText(formatFrame(f, this.cwd))),
        ...(r.stackError === undefined ? {} : { stackError: traceText(r.stackError) }),
        ...(r.stackSource === undefined ? {} : { stackSource: r.stackSource }),
        ...(samples === undefined ? {} : { samples }),
        ...(r.unsampled === undefined ? {} : { unsampled: traceText(`no CPU samples: ${r.unsampled}`) }),
        ...(ongoing ? { ongoing: 'still blocked when the recording ended' } : {}),
      },
    };
  }

  private profileDictionary(d: ProfileDictionary): void {
    if (d.reset) {
      this.profileFrames.clear();
      this.profileNodes.clear();
    }
    for (const [id, f] of d.frames) this.profileFrames.set(id, f);
    for (const [id, parent, frameId] of d.nodes) {
      const f = this.profileFrames.get(frameId);
      const parentId = parent === 0 ? 1 : this.profileNodes.get(parent) ?? 1;
      // V8's "(root)" is the profile's one root, id 1.
      if (!f || (parent === 0 && f.kind === 'root')) {
        this.profileNodes.set(id, 1);
        continue;
      }
      const emitted = this.nextNodeId++;
      this.profileNodes.set(id, emitted);
      this.newNodes.push({
        id: emitted, parent: parentId,
        callFrame: { functionName: traceText(f.functionName), url: traceText(scriptUrl(f.url)), scriptId: 0, lineNumber: f.lineNumber - 1, columnNumber: f.columnNumber - 1 },
      });
    }
  }

  private profileChunk(b: ProfileBatch): TraceEvent[] {
    if (b.count === 0) return [];
    const events: TraceEvent[] = [];
    // One profile per loop: its id is the loop's, its samples on the loop's blocked track.
    const id = `0x${(this.loop + 1).toString(16)}`;
    const at = { ph: 'P' as const, cat: 'disabled-by-default-v8.cpu_profiler', pid: this.pid, tid: this.tid(TRACKS.blocked) };
    if (this.lastSampleUs === undefined) {
      const startTime = Math.max(0, b.timesUs[0]! - b.intervalUs + this.shiftUs);
      this.lastSampleUs = startTime;
      events.push({ ...at, name: 'Profile', ts: startTime, id, args: { data: { startTime } } });
      this.newNodes.unshift({ id: 1, parent: 0, callFrame: { functionName: '(root)', url: '', scriptId: 0, lineNumber: -1, columnNumber: -1 } });
    }
    const samples: number[] = [];
    const timeDeltas: number[] = [];
    for (let i = 0; i < b.count; i++) {
      samples.push(this.profileNodes.get(b.nodeIds[i]!) ?? 1);
      const t = Math.round(b.timesUs[i]! + this.shiftUs);
      timeDeltas.push(t - this.lastSampleUs);
      this.lastSampleUs = t;
    }
    const nodes = this.newNodes.map((n) => (n.parent === 0 ? { id: n.id, callFrame: n.callFrame } : n));
    this.newNodes = [];
    events.push({ ...at, name: 'ProfileChunk', ts: b.toUs + this.shiftUs, id, args: { data: { cpuProfile: { nodes, samples }, timeDeltas } } });
    return events;
  }

  private callbacks(b: TaskEventBatch): TraceEvent[] {
    const events: TraceEvent[] = [];
    for (let i = 0; i < b.count; i++) {
      const asyncId = b.asyncIds[i]!;
      const t = b.timesUs[i]!;
      switch (b.kinds[i]) {
        case TaskEventKind.init:
          if (this.types.size < MAX_TYPES_KEPT) this.types.set(asyncId, traceText(b.types.get(b.typeIds[i]!) ?? 'unknown'));
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
          this.nested.push({
            name: this.types.get(open.asyncId) ?? 'callback', cat: 'callback', ph: 'X', ts: open.startUs + this.shiftUs, dur: Math.max(0, t - open.startUs),
            pid: this.pid, tid: this.tid(TRACKS.callbacks), args: { asyncId: open.asyncId },
          });
          // Slices pair before and after with a stack, so they always nest; the outermost ends
          // last, and is put first.
          if (this.open.length === 0 || this.nested.length >= MAX_NESTED_KEPT) {
            events.push(...this.nested.sort(startOrder));
            this.nested = [];
          }
          break;
        }
      }
    }
    return events;
  }
}
