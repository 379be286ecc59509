// A session's CPU samples, for profiles of any time range: the probe's frames and stack nodes
// (interned: a node keeps its id here across the probe's resets), the recent samples in a
// ring, and the leaves' lines of each harvest. Pure and bounded: the ring keeps the latest
// samples, the tables start afresh (with the samples) past their bound.

import type { ProfileBatch, ProfileDictionary, ProfileFrame, ProbeMessage } from '../../probe/wire';

/** Samples kept: at the default 20 ms, 43 minutes of a busy loop; 1.5 MB. */
export const PROFILE_SAMPLES = 131_072;
/** For a pass over a whole recording (its summary, its export): 23 hours at 20 ms, 48 MB at most. */
export const WHOLE_RECORDING_SAMPLES = 4 * 1024 * 1024;
/** Harvests whose leaves' lines are kept (about one a second). */
const KEPT_HARVESTS = 4096;
/** Nodes interned at most before the model starts afresh. */
const MAX_NODES = 262_144;

export interface HarvestLines {
  readonly fromUs: number;
  readonly toUs: number;
  /** [node id, line, samples] triples, node ids the model's own. */
  readonly ticks: Uint32Array;
}

/** The samples of a time range: node ids (the model's) and times (µs since the target's time origin). */
export interface ProfileRange {
  readonly fromUs: number;
  readonly toUs: number;
  readonly intervalUs: number;
  readonly nodes: Uint32Array;
  readonly times: Float64Array;
  /** The leaves' lines of the harvests overlapping the range. */
  readonly harvests: readonly HarvestLines[];
}

export interface ProfileTree {
  frame(node: number): ProfileFrame;
  /** 0 for a root. */
  parent(node: number): number;
}

export class ProfileModel implements ProfileTree {
  private frames: ProfileFrame[] = [];
  private readonly frameKeys = new Map<string, number>();
  private parents: number[] = [];
  private nodeFrames: number[] = [];
  private readonly nodeKeys = new Map<number, number>();
  /** The probe's ids (since its last reset) → ours. */
  private readonly wireFrames = new Map<number, number>();
  private readonly wireNodes = new Map<number, number>();
  // The ring grows as samples come (a short session needs little), up to `limit`.
  private nodes: Uint32Array;
  private times: Float64Array;
  private capacity: number;
  private count = 0;
  private next = 0;
  private harvests: HarvestLines[] = [];
  private interval = 0;
  /** Samples the ring had no room for: the oldest are left out. */
  dropped = 0;

  constructor(private readonly limit = PROFILE_SAMPLES) {
    this.capacity = Math.max(1, Math.min(1024, limit));
    this.nodes = new Uint32Array(this.capacity);
    this.times = new Float64Array(this.capacity);
  }

  /** The sampling interval the probe last said, µs (0 before any sample). */
  get intervalUs(): number {
    return this.interval;
  }

  get samples(): number {
    return this.count;
  }

  /** The time the model holds samples for, or undefined before the first. */
  get extent(): { fromUs: number; toUs: number } | undefined {
    if (this.count === 0) return undefined;
    return { fromUs: this.times[(this.next - this.count + this.capacity) % this.capacity]!, toUs: this.times[(this.next - 1 + this.capacity) % this.capacity]! };
  }

  frame(node: number): ProfileFrame {
    return this.frames[this.nodeFrames[node - 1]! - 1]!;
  }

  parent(node: number): number {
    return this.parents[node - 1]!;
  }

  apply(message: ProbeMessage): void {
    if (message.type === 'profileDictionary') this.dictionary(message.dictionary);
    else if (message.type === 'profileSamples') this.batch(message.batch);
  }

  /** The samples from `fromUs` to `toUs`, oldest first. */
  range(fromUs: number, toUs: number): ProfileRange {
    const nodes: number[] = [];
    const times: number[] = [];
    // The ring is in time order: find the first inside by bisection.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.timeAt(mid) < fromUs) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < this.count; k++) {
      const t = this.timeAt(k);
      if (t > toUs) break;
      nodes.push(this.nodes[(this.next - this.count + k + this.capacity) % this.capacity]!);
      times.push(t);
    }
    const harvests = this.harvests.filter((h) => h.toUs >= fromUs && h.fromUs <= toUs);
    return { fromUs, toUs, intervalUs: this.interval, nodes: Uint32Array.from(nodes), times: Float64Array.from(times), harvests };
  }

  private grow(): void {
    const capacity = Math.min(this.limit, this.capacity * 2);
    const nodes = new Uint32Array(capacity);
    const times = new Float64Array(capacity);
    for (let k = 0; k < this.count; k++) {
      const i = (this.next - this.count + k + this.capacity) % this.capacity;
      nodes[k] = this.nodes[i]!;
      times[k] = this.times[i]!;
    }
    this.nodes = nodes;
    this.times = times;
    this.next = this.count % capacity;
    this.capacity = capacity;
  }

  private timeAt(k: number): number {
    return this.times[(this.next - this.count + k + this.capacity) % this.capacity]!;
  }

  private dictionary(d: ProfileDictionary): void {
    if (d.reset) {
      this.wireFrames.clear();
      this.wireNodes.clear();
    }
    for (const [id, f] of d.frames) this.wireFrames.set(id, this.frameId(f));
    for (const [id, parent, frame] of d.nodes) {
      // The decoder has checked the references: parents come first.
      const p = parent === 0 ? 0 : this.wireNodes.get(parent) ?? 0;
      this.wireNodes.set(id, this.nodeId(p, this.wireFrames.get(frame) ?? this.frameId({ functionName: '(unknown)', url: '', lineNumber: 0, columnNumber: 0, kind: 'code' })));
    }
    if (this.parents.length > MAX_NODES) this.clear();
  }

  private batch(b: ProfileBatch): void {
    this.interval = b.intervalUs;
    for (let i = 0; i < b.count; i++) {
      const node = this.wireNodes.get(b.nodeIds[i]!);
      if (node === undefined) continue;
      if (this.count === this.capacity) {
        if (this.capacity < this.limit) this.grow();
        else this.dropped++;
      }
      this.nodes[this.next] = node;
      this.times[this.next] = b.timesUs[i]!;
      this.next = (this.next + 1) % this.capacity;
      this.count = Math.min(this.capacity, this.count + 1);
    }
    const ticks: number[] = [];
    for (let i = 0; i < b.lineTicks.length; i += 3) {
      const node = this.wireNodes.get(b.lineTicks[i]!);
      if (node !== undefined) ticks.push(node, b.lineTicks[i + 1]!, b.lineTicks[i + 2]!);
    }
    this.harvests.push({ fromUs: b.fromUs, toUs: b.toUs, ticks: Uint32Array.from(ticks) });
    if (this.harvests.length > KEPT_HARVESTS) this.harvests = this.harvests.slice(-KEPT_HARVESTS / 2);
  }

  private frameId(f: ProfileFrame): number {
    const key = `${f.kind}\n${f.functionName}\n${f.url}\n${f.lineNumber}\n${f.columnNumber}`;
    let id = this.frameKeys.get(key);
    if (id === undefined) {
      this.frames.push(f);
      id = this.frames.length;
      this.frameKeys.set(key, id);
    }
    return id;
  }

  private nodeId(parent: number, frame: number): number {
    const key = parent * 0x400000 + frame;
    let id = this.nodeKeys.get(key);
    if (id === undefined) {
      this.parents.push(parent);
      this.nodeFrames.push(frame);
      id = this.parents.length;
      this.nodeKeys.set(key, id);
    }
    return id;
  }

  /** Starts afresh, samples and all, but keeps the probe's ids mapped: they stay valid. */
  private clear(): void {
    const live = new Map([...this.wireNodes].map(([wire, node]) => [wire, this.path(node)] as const));
    const liveFrames = new Map([...this.wireFrames].map(([wire, f]) => [wire, this.frames[f - 1]!] as const));
    this.frames = [];
    this.frameKeys.clear();
    this.parents = [];
    this.nodeFrames = [];
    this.nodeKeys.clear();
    this.count = 0;
    this.next = 0;
    this.harvests = [];
    this.wireFrames.clear();
    this.wireNodes.clear();
    for (const [wire, f] of liveFrames) this.wireFrames.set(wire, this.frameId(f));
    for (const [wire, path] of live) {
      let node = 0;
      for (const f of path) node = this.nodeId(node, this.frameId(f));
      this.wireNodes.set(wire, node);
    }
  }

  /** Frames from the root to `node`. */
  private path(node: number): ProfileFrame[] {
    const out: ProfileFrame[] = [];
    for (let n = node; n !== 0; n = this.parent(n)) out.push(this.frame(n));
    return out.reverse();
  }
}
