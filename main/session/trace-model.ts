// trace mode: every lifecycle event, rebuilt into the causality tree (which resource created
// which) and a timeline of what ran in each loop turn. A million events a second arrive, so
// this model is updated in place, with fixed bounds; its queries are pure functions of it.

import { TaskEventKind, type TaskEventBatch } from '../../probe/wire';
import { BEFORE_TRACE_TYPE, FORGOTTEN_TYPE, MAX_TRACE_KEEP_S, MIN_TRACE_KEEP_S, DEFAULT_TRACE_KEEP_S } from '../common/trace-terms';

/** Resources remembered; the oldest destroyed ones are forgotten first. */
const MAX_RESOURCES = 200_000;
const MAX_CALLBACKS_PER_RESOURCE = 16;
const MAX_SLICES_PER_TURN = 500;
/** However long the trace is asked to keep, at most this many callbacks (memory), and turns. */
export const MAX_TRACE_SLICES = 1_000_000;
const MAX_TURNS = 200_000;

export interface TracedResource {
  readonly asyncId: number;
  readonly type: string;
  readonly triggerId: number;
  readonly initUs: number;
  /** The function it will call, where the probe could tell (timers, immediates, nextTicks). */
  readonly name: string | undefined;
  destroyedUs: number | undefined;
  resolvedUs: number | undefined;
  /** [start, end] µs of its first callbacks; allocated on the first one (most have none or one). */
  callbacks: [number, number][] | undefined;
  children: number[] | undefined;
}

export interface CallbackSlice {
  readonly asyncId: number;
  readonly type: string;
  readonly name: string | undefined;
  readonly startUs: number;
  endUs: number;
  readonly depth: number;
}

export interface LoopTurn {
  readonly startUs: number;
  readonly slices: CallbackSlice[];
}

export class TraceModel {
  readonly resources = new Map<number, TracedResource>();
  /** Oldest first. */
  turns: LoopTurn[] = [];
  events = 0;
  forgotten = 0;
  /** The first async id traced: every lower one was made before tracing started. */
  firstTracedId: number | undefined;
  /** How much of the latest turns to keep, µs. */
  private keepUs = DEFAULT_TRACE_KEEP_S * 1e6;
  /** Callbacks in `turns`. */
  private slices = 0;
  /** Turns were let go to stay within MAX_TRACE_SLICES or MAX_TURNS, sooner than keepS asked. */
  private capped = false;
  // The callbacks running now, innermost last: columns rather than objects, since most never
  // become slices in a turn (a turn keeps its first MAX_SLICES_PER_TURN).
  private openIds: number[] = [];
  private openStarts: number[] = [];
  private openSlices: (CallbackSlice | undefined)[] = [];
  private destroyedOrder: number[] = [];
  private destroyedHead = 0;

  get keepS(): number {
    return this.keepUs / 1e6;
  }

  /** Whether the bounds, not keepS, decide how far back the trace reaches now. */
  get full(): boolean {
    return this.capped;
  }

  /** Keeps the latest `seconds` of turns (within the bounds); turns already let go do not come back. */
  setKeep(seconds: number): void {
    this.keepUs = Math.min(MAX_TRACE_KEEP_S, Math.max(MIN_TRACE_KEEP_S, seconds)) * 1e6;
    this.capped = false;
  }

  apply(batch: TaskEventBatch): void {
    const { count, kinds, asyncIds, triggerIds, timesUs, typeIds, types, nameIds, names } = batch;
    this.events += count;
    for (let i = 0; i < count; i++) {
      const id = asyncIds[i]!;
      const t = timesUs[i]!;
      switch (kinds[i]) {
        case TaskEventKind.init: {
          const resource: TracedResource = {
            asyncId: id, type: types.get(typeIds[i]!) ?? 'unknown', triggerId: triggerIds[i]!, initUs: t,
            name: nameIds && names ? names.get(nameIds[i]!) : undefined,
            destroyedUs: undefined, resolvedUs: undefined, callbacks: undefined, children: undefined,
          };
          this.firstTracedId ??= id;
          this.resources.set(id, resource);
          const parent = this.resources.get(resource.triggerId);
          if (parent) {
            parent.children ??= [];
            if (parent.children.length < 10_000) parent.children.push(id);
          }
          if (this.resources.size > MAX_RESOURCES) this.forgetOldest();
          break;
        }
        case TaskEventKind.turn:
          this.turns.push({ startUs: t, slices: [] });
          this.letGo(t);
          break;
        case TaskEventKind.before: {
          const turn = this.turns[this.turns.length - 1];
          let slice: CallbackSlice | undefined;
          if (turn && turn.slices.length < MAX_SLICES_PER_TURN) {
            const r = this.resources.get(id);
            slice = { asyncId: id, type: r?.type ?? this.untracedType(id), name: r?.name, startUs: t, endUs: t, depth: this.openIds.length };
            turn.slices.push(slice);
            this.slices++;
          }
          this.openIds.push(id);
          this.openStarts.push(t);
          this.openSlices.push(slice);
          break;
        }
        case TaskEventKind.after: {
          if (this.openIds.length === 0) break;
          this.openIds.pop();
          const start = this.openStarts.pop()!;
          const slice = this.openSlices.pop();
          if (slice) slice.endUs = t;
          const r = this.resources.get(id);
          if (r) {
            r.callbacks ??= [];
            if (r.callbacks.length < MAX_CALLBACKS_PER_RESOURCE) r.callbacks.push([start, t]);
          }
          break;
        }
        case TaskEventKind.destroy: {
          const r = this.resources.get(id);
          if (r) {
            r.destroyedUs = t;
            this.destroyedOrder.push(id);
            if (this.destroyedOrder.length > 2 * MAX_RESOURCES) this.compactDestroyed();
          }
          break;
        }
        case TaskEventKind.promiseResolve: {
          const r = this.resources.get(id);
          if (r) r.resolvedUs = t;
          break;
        }
      }
    }
  }

  /** What to call the type of a resource the trace does not hold. */
  untracedType(asyncId: number): string {
    return this.firstTracedId === undefined || asyncId < this.firstTracedId ? BEFORE_TRACE_TYPE : FORGOTTEN_TYPE;
  }

  /**
   * Lets the oldest turns go: those older than keepS before `nowUs`, and as many as the bounds
   * need. In batches of at least a 64th of them, so that dropping from the front of the array
   * costs little per turn.
   */
  private letGo(nowUs: number): void {
    const turns = this.turns;
    let n = 0;
    let slices = this.slices;
    let capped = false;
    while (n < turns.length - 1) {
      const over = slices > MAX_TRACE_SLICES || turns.length - n > MAX_TURNS;
      if (!over && turns[n]!.startUs >= nowUs - this.keepUs) break;
      capped ||= over;
      slices -= turns[n]!.slices.length;
      n++;
    }
    if (n === 0 || (n < turns.length / 64 && slices <= MAX_TRACE_SLICES * 1.02)) return;
    this.turns = turns.slice(n);
    this.slices = slices;
    if (capped) this.capped = true;
  }

  private forgetOldest(): void {
    // Forget destroyed resources first, oldest first; if none are, the oldest of all.
    while (this.destroyedHead < this.destroyedOrder.length) {
      const id = this.destroyedOrder[this.destroyedHead++]!;
      if (this.resources.delete(id)) {
        this.forgotten++;
        return;
      }
    }
    this.compactDestroyed();
    const oldest = this.resources.keys().next();
    if (!oldest.done) {
      this.resources.delete(oldest.value);
      this.forgotten++;
    }
  }

  private compactDestroyed(): void {
    this.destroyedOrder = this.destroyedOrder.slice(this.destroyedHead).filter((id) => this.resources.has(id));
    this.destroyedHead = 0;
  }
}

/** The chain of resources that led to this one, root first (e.g. TCPSERVERWRAP → TCPWRAP → …). */
export function causalChain(model: TraceModel, asyncId: number): TracedResource[] {
  const chain: TracedResource[] = [];
  const seen = new Set<number>();
  let r = model.resources.get(asyncId);
  while (r && !seen.has(r.asyncId)) {
    seen.add(r.asyncId);
    chain.unshift(r);
    r = model.resources.get(r.triggerId);
  }
  return chain;
}

export interface CausalNode {
  readonly asyncId: number;
  readonly type: string;
  readonly children: readonly CausalNode[];
}

/** Everything this resource caused, as a tree, to a bounded size. */
export function causalTree(model: TraceModel, asyncId: number, maxNodes = 1000): CausalNode | undefined {
  let budget = maxNodes;
  const build = (id: number): CausalNode | undefined => {
    const r = model.resources.get(id);
    if (!r || budget-- <= 0) return undefined;
    const children: CausalNode[] = [];
    for (const c of r.children ?? []) {
      const node = build(c);
      if (node) children.push(node);
    }
    return { asyncId: r.asyncId, type: r.type, children };
  };
  return build(asyncId);
}
