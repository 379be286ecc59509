// trace mode: every lifecycle event, rebuilt into the causality tree (which resource created
// which) and a timeline of what ran in each loop turn. A million events a second arrive, so
// this model is updated in place, with fixed bounds; its queries are pure functions of it.

import { TaskEventKind, type TaskEventBatch } from '../../probe/wire';

/** Resources remembered; the oldest destroyed ones are forgotten first. */
const MAX_RESOURCES = 200_000;
const MAX_TURNS = 2_000;
const MAX_CALLBACKS_PER_RESOURCE = 16;
const MAX_SLICES_PER_TURN = 500;

export interface TracedResource {
  readonly asyncId: number;
  readonly type: string;
  readonly triggerId: number;
  readonly initUs: number;
  destroyedUs: number | undefined;
  resolvedUs: number | undefined;
  /** [start, end] µs of its first callbacks; allocated on the first one (most have none or one). */
  callbacks: [number, number][] | undefined;
  children: number[] | undefined;
}

export interface CallbackSlice {
  readonly asyncId: number;
  readonly type: string;
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
  readonly turns: LoopTurn[] = [];
  events = 0;
  forgotten = 0;
  // The callbacks running now, innermost last: columns rather than objects, since most never
  // become slices in a turn (a turn keeps its first MAX_SLICES_PER_TURN).
  private openIds: number[] = [];
  private openStarts: number[] = [];
  private openSlices: (CallbackSlice | undefined)[] = [];
  private destroyedOrder: number[] = [];
  private destroyedHead = 0;

  apply(batch: TaskEventBatch): void {
    const { count, kinds, asyncIds, triggerIds, timesUs, typeIds, types } = batch;
    this.events += count;
    for (let i = 0; i < count; i++) {
      const id = asyncIds[i]!;
      const t = timesUs[i]!;
      switch (kinds[i]) {
        case TaskEventKind.init: {
          const resource: TracedResource = {
            asyncId: id, type: types.get(typeIds[i]!) ?? 'unknown', triggerId: triggerIds[i]!, initUs: t,
            destroyedUs: undefined, resolvedUs: undefined, callbacks: undefined, children: undefined,
          };
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
          if (this.turns.length > MAX_TURNS) this.turns.shift();
          break;
        case TaskEventKind.before: {
          const turn = this.turns[this.turns.length - 1];
          let slice: CallbackSlice | undefined;
          if (turn && turn.slices.length < MAX_SLICES_PER_TURN) {
            slice = { asyncId: id, type: this.resources.get(id)?.type ?? 'unknown', startUs: t, endUs: t, depth: this.openIds.length };
            turn.slices.push(slice);
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
