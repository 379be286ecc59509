// The worker's copy of the CPU profile: V8's profiles, each with its own node ids, made into
// one table of call frames and stack nodes whose ids last (a node is a frame called from its
// parent node), the samples of each harvest once each on the main thread's clock, the entries
// loopscope has not been sent yet, and the last seconds of samples for blocked reports.
// Pure: no I/O, bounded (the tables start afresh, and say so on the wire, past their bounds).

import { fileURLToPath } from 'node:url';
import { clipName, MAX_PROFILE_FRAMES, MAX_PROFILE_NODES, MAX_PROFILE_TEXT, type ProfileBatch, type ProfileDictionary, type ProfileFrame, type ProfileFrameKind } from './wire';

/** V8's Profiler.Profile, as Runtime's inspector sends it. */
export interface V8CallFrame {
  readonly functionName: string;
  readonly url: string;
  /** 0-based; -1 when none. */
  readonly lineNumber: number;
  readonly columnNumber: number;
}

export interface V8ProfileNode {
  readonly id: number;
  readonly callFrame: V8CallFrame;
  readonly children?: readonly number[];
  readonly positionTicks?: readonly { readonly line: number; readonly ticks: number }[];
}

export interface V8Profile {
  readonly nodes: readonly V8ProfileNode[];
  /** µs of the clock process.hrtime reads. */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Samples kept for blocked reports: at 20 ms, five minutes; at 1 ms, sixteen seconds. */
const RECENT_SAMPLES = 16_384;
/** Harvests whose leaves' lines are kept for blocked reports. */
const RECENT_HARVESTS = 64;

/** Where the probe's own code runs: its bundle, and the evaluations of its worker. */
export interface ProbeCode {
  readonly file: string;
}

/**
 * The script of the harvests' evaluations (cpu-sampler.ts). Its samples are dropped: V8 adds
 * one sample of the current stack whenever a profile starts, so each harvest would show as a
 * sample's worth of the probe's time (a 20 ms sample for 0.1–0.7 ms of work).
 */
export const HARVEST_SCRIPT = 'loopscope-probe-profile';

const SPECIAL: ReadonlyMap<string, ProfileFrameKind> = new Map([
  ['(root)', 'root'],
  ['(program)', 'program'],
  ['(idle)', 'idle'],
  ['(garbage collector)', 'gc'],
]);

/** A script's URL as stacks show it elsewhere: a path for files (as the interrupt stack has them). */
export function plainUrl(url: string): string {
  if (!url.startsWith('file://')) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

export function frameKind(f: V8CallFrame, probe: ProbeCode): ProfileFrameKind {
  if (f.url === '') {
    const special = SPECIAL.get(f.functionName);
    if (special) return special;
  }
  const url = plainUrl(f.url);
  return url === probe.file || url.startsWith('loopscope-probe') ? 'probe' : 'code';
}

export interface HarvestLines {
  readonly fromUs: number;
  readonly toUs: number;
  /** [node id, line, samples] triples. */
  readonly ticks: Uint32Array;
}

export class ProfileTable {
  private readonly frameIds = new Map<string, number>();
  /** By id − 1. */
  private frames: ProfileFrame[] = [];
  private readonly nodeIds = new Map<number, number>();
  /** By id − 1: the parent node id (0: a root) and the frame id. */
  private parents: number[] = [];
  private nodeFrames: number[] = [];
  private textLength = 0;
  private sentFrames = 0;
  private sentNodes = 0;
  private resetPending = false;
  /** The last sample taken in, µs of V8's clock: the overlap of two profiles is dropped by it. */
  private lastTs = -Infinity;
  private lastUs: number | undefined;
  private readonly recentNodes = new Uint32Array(RECENT_SAMPLES);
  private readonly recentTimes = new Float64Array(RECENT_SAMPLES);
  private recentCount = 0;
  private recentNext = 0;
  private harvests: HarvestLines[] = [];
  /** Nodes under a harvest's evaluation, whose samples are dropped. */
  private readonly harvestNodes = new Map<number, boolean>();

  /**
   * `offsetUs`: V8's clock (process.hrtime's) minus the main thread's performance.now(), in µs.
   * `bodyOf`: the first and last line of a frame's function, from its source, when it can be read.
   */
  constructor(
    private readonly probe: ProbeCode,
    private offsetUs: number,
    private readonly bodyOf: (frame: ProfileFrame) => { readonly from: number; readonly to: number } | undefined = () => undefined,
  ) {}

  set clockOffsetUs(us: number) {
    this.offsetUs = us;
  }

  frame(node: number): ProfileFrame {
    return this.frames[this.nodeFrames[node - 1]! - 1]!;
  }

  parent(node: number): number {
    return this.parents[node - 1]!;
  }

  /**
   * Takes in one harvested profile: its new frames and nodes, and its samples later than any
   * taken before (the profiles of two harvests overlap by design), as a batch to send.
   */
  ingest(profile: V8Profile, intervalUs: number): ProfileBatch {
    if (this.frames.length > MAX_PROFILE_FRAMES / 2 || this.parents.length > MAX_PROFILE_NODES / 2 || this.textLength > MAX_PROFILE_TEXT / 2) this.reset();
    const byId = new Map<number, V8ProfileNode>();
    const parentOf = new Map<number, number>();
    for (const n of profile.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parentOf.set(c, n.id);
    }
    const ours = new Map<number, number>();
    const idOf = (v8Id: number): number => {
      const known = ours.get(v8Id);
      if (known !== undefined) return known;
      // Parents first, without recursion: stacks can be deep.
      const chain: number[] = [];
      for (let at: number | undefined = v8Id; at !== undefined && !ours.has(at); at = parentOf.get(at)) chain.push(at);
      for (let i = chain.length - 1; i >= 0; i--) {
        const id = chain[i]!;
        const p = parentOf.get(id);
        ours.set(id, this.node(p === undefined ? 0 : ours.get(p)!, byId.get(id)!.callFrame));
      }
      return ours.get(v8Id)!;
    };
    const fromUs = this.lastUs ?? profile.startTime - this.offsetUs;
    const nodeIds: number[] = [];
    const timesUs: number[] = [];
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    // Per V8 node: its samples kept (not sent by the harvest before, not the probe's own).
    const kept = new Map<number, number>();
    let t = profile.startTime;
    for (let i = 0; i < samples.length; i++) {
      t += deltas[i] ?? 0;
      const v8Id = samples[i]!;
      if (!byId.has(v8Id)) continue;
      if (t <= this.lastTs) continue;
      this.lastTs = t;
      const id = idOf(v8Id);
      if (this.inHarvest(id)) continue;
      const us = t - this.offsetUs;
      nodeIds.push(id);
      timesUs.push(us);
      this.remember(id, us);
      kept.set(v8Id, (kept.get(v8Id) ?? 0) + 1);
    }
    // V8 counts a node's lines over the whole profile, so the samples the previous harvest
    // already sent (the overlap, which spans a whole block when the main thread is blocked
    // between the two evaluates) would count twice: scale the lines to the samples kept.
    const ticks: number[] = [];
    for (const n of profile.nodes) {
      const keep = kept.get(n.id) ?? 0;
      if (!n.positionTicks?.length || keep === 0) continue;
      const id = idOf(n.id);
      for (const [line, count] of scaleTicks(this.ownLines(id, n.positionTicks), keep)) ticks.push(id, line, count);
    }
    const toUs = timesUs.length > 0 ? timesUs[timesUs.length - 1]! : fromUs;
    this.lastUs = toUs;
    const lineTicks = Uint32Array.from(ticks);
    this.harvests.push({ fromUs, toUs, ticks: lineTicks });
    if (this.harvests.length > RECENT_HARVESTS) this.harvests.shift();
    return { fromUs, toUs, intervalUs, count: nodeIds.length, nodeIds: Uint32Array.from(nodeIds), timesUs: Float64Array.from(timesUs), lineTicks };
  }

  /** The entries loopscope has not been sent (all of them after a reset); undefined when there are none. */
  unsent(): ProfileDictionary | undefined {
    if (!this.resetPending && this.sentFrames === this.frames.length && this.sentNodes === this.parents.length) return undefined;
    const frames: (readonly [number, ProfileFrame])[] = [];
    for (let i = this.sentFrames; i < this.frames.length; i++) frames.push([i + 1, this.frames[i]!]);
    const nodes: (readonly [number, number, number])[] = [];
    for (let i = this.sentNodes; i < this.parents.length; i++) nodes.push([i + 1, this.parents[i]!, this.nodeFrames[i]!]);
    return { reset: this.resetPending, frames, nodes };
  }

  /** What `unsent` returned is on its way. */
  markSent(): void {
    this.sentFrames = this.frames.length;
    this.sentNodes = this.parents.length;
    this.resetPending = false;
  }

  /** The samples kept from `fromUs` to `toUs` (main thread's clock, µs), oldest first. */
  samplesBetween(fromUs: number, toUs: number): { nodes: number[]; times: number[] } {
    const nodes: number[] = [];
    const times: number[] = [];
    for (let k = this.recentCount; k > 0; k--) {
      const i = (this.recentNext - k + RECENT_SAMPLES) % RECENT_SAMPLES;
      const t = this.recentTimes[i]!;
      if (t < fromUs) continue;
      if (t > toUs) break;
      nodes.push(this.recentNodes[i]!);
      times.push(t);
    }
    return { nodes, times };
  }

  /** The leaves' lines of the harvests that overlap `fromUs`–`toUs`, summed per node: node → line → samples. */
  linesBetween(fromUs: number, toUs: number): Map<number, Map<number, number>> {
    const out = new Map<number, Map<number, number>>();
    for (const h of this.harvests) {
      if (h.toUs < fromUs || h.fromUs > toUs) continue;
      for (let i = 0; i < h.ticks.length; i += 3) {
        const lines = out.get(h.ticks[i]!) ?? new Map<number, number>();
        lines.set(h.ticks[i + 1]!, (lines.get(h.ticks[i + 1]!) ?? 0) + h.ticks[i + 2]!);
        out.set(h.ticks[i]!, lines);
      }
    }
    return out;
  }

  /**
   * The ticks on lines of the node's own function: V8 counts the lines of code inlined into a
   * function as its own, in their own script (a performance.now() inlined into a loop shows
   * perf_hooks' lines 139 and 530 as the loop's).
   */
  private ownLines(node: number, ticks: readonly { readonly line: number; readonly ticks: number }[]): readonly { readonly line: number; readonly ticks: number }[] {
    const f = this.frame(node);
    const body = f.url === '' ? undefined : this.bodyOf(f);
    return ticks.filter((p) => (body ? p.line >= body.from && p.line <= body.to : p.line >= f.lineNumber));
  }

  private inHarvest(node: number): boolean {
    let known = this.harvestNodes.get(node);
    if (known === undefined) {
      known = false;
      for (let n = node; n !== 0 && !known; n = this.parent(n)) known = this.frame(n).url === HARVEST_SCRIPT;
      this.harvestNodes.set(node, known);
    }
    return known;
  }

  private node(parent: number, f: V8CallFrame): number {
    const frame = this.frameId(f);
    // Frame ids stay below 2^17 (the reset bound), so this key is exact.
    const key = parent * 0x20000 + frame;
    let id = this.nodeIds.get(key);
    if (id === undefined) {
      this.parents.push(parent);
      this.nodeFrames.push(frame);
      id = this.parents.length;
      this.nodeIds.set(key, id);
    }
    return id;
  }

  private frameId(f: V8CallFrame): number {
    const key = `${f.functionName}\n${f.url}\n${f.lineNumber}\n${f.columnNumber}`;
    let id = this.frameIds.get(key);
    if (id === undefined) {
      const frame: ProfileFrame = {
        functionName: clipName(f.functionName),
        url: clipName(plainUrl(f.url)),
        lineNumber: Math.max(0, f.lineNumber + 1),
        columnNumber: Math.max(0, f.columnNumber + 1),
        kind: frameKind(f, this.probe),
      };
      this.frames.push(frame);
      this.textLength += frame.functionName.length + frame.url.length;
      id = this.frames.length;
      this.frameIds.set(key, id);
    }
    return id;
  }

  private remember(node: number, us: number): void {
    this.recentNodes[this.recentNext] = node;
    this.recentTimes[this.recentNext] = us;
    this.recentNext = (this.recentNext + 1) % RECENT_SAMPLES;
    this.recentCount = Math.min(RECENT_SAMPLES, this.recentCount + 1);
  }

  /** Starts the tables afresh: the next dictionary sent says so. */
  private reset(): void {
    this.frameIds.clear();
    this.frames = [];
    this.nodeIds.clear();
    this.parents = [];
    this.nodeFrames = [];
    this.textLength = 0;
    this.sentFrames = 0;
    this.sentNodes = 0;
    this.resetPending = true;
    this.recentCount = 0;
    this.harvests = [];
    this.harvestNodes.clear();
  }
}

/**
 * A node's line ticks scaled to `samples` in all, by largest remainder, so that they add up to
 * the samples the node keeps; lines left with no tick are left out.
 */
export function scaleTicks(ticks: readonly { readonly line: number; readonly ticks: number }[], samples: number): [line: number, ticks: number][] {
  const valid = ticks.filter((p) => p.line > 0 && p.ticks > 0);
  const total = valid.reduce((a, p) => a + p.ticks, 0);
  if (total === 0) return [];
  if (total <= samples) return valid.map((p) => [p.line, p.ticks]);
  const shares = valid.map((p) => {
    const exact = (p.ticks * samples) / total;
    return { line: p.line, count: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = samples - shares.reduce((a, p) => a + p.count, 0);
  for (const share of [...shares].sort((a, b) => b.rest - a.rest)) {
    if (left-- <= 0) break;
    share.count++;
  }
  return shares.filter((p) => p.count > 0).map((p) => [p.line, p.count]);
}
