// TraceModel → what the trace screens draw (main/ui-api.ts): the turns and callbacks in a
// window of time, and the causality of one resource. Pure, and bounded whatever the model
// holds, so a window over a flood of events still costs the UI a fixed amount.

import type { CausalityNode, CausalityResource, CausalityView, TimelineSlice, TimelineTurn, TimelineView } from './ui-api';
import type { CallbackSlice, LoopTurn, TraceModel, TracedResource } from '../session/trace-model';

/** Causes kept of a long chain: the root, and this many nearest the resource. */
const CHAIN_NEAREST = 48;
const TREE_MAX_NODES = 400;
const TREE_MAX_DEPTH = 24;

const seconds = (us: number, originUs: number): number => (us - originUs) / 1e6;
const toMs = (us: number): number => Math.round(us) / 1000;

/** A turn ends with its last top-level callback; one with none ends where it starts. */
function turnEndUs(turn: LoopTurn): number {
  let end = turn.startUs;
  for (const s of turn.slices) if (s.depth === 0 && s.endUs > end) end = s.endUs;
  return end;
}

/** Index of the last turn starting at or before `us` (0 if none does). */
function firstTurnAt(turns: readonly LoopTurn[], us: number): number {
  let lo = 0;
  let hi = turns.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (turns[mid]!.startUs <= us) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The `max` items with the largest `size`, in their original order. A quickselect finds the
 * cut, so a window over a million callbacks costs O(n), not a sort.
 */
export function longest<T>(items: readonly T[], max: number, size: (item: T) => number): T[] {
  if (items.length <= max) return [...items];
  if (max <= 0) return [];
  // Plain loops: Float64Array.from with a map function is many times slower here.
  const sizes = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) sizes[i] = size(items[i]!);
  const cut = kthLargest(sizes.slice(), max);
  let above = 0;
  for (const s of sizes) if (s > cut) above++;
  let ties = max - above;
  const out: T[] = [];
  for (let i = 0; i < items.length; i++) {
    const s = sizes[i]!;
    if (s > cut || (s === cut && ties-- > 0)) out.push(items[i]!);
  }
  return out;
}

/** The k-th largest value (1-based); reorders `values`. */
function kthLargest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target]!;
  }
  return values[target]!;
}

/** The turns and callback slices overlapping [fromS, toS], at most `maxSlices` of each. */
export function timelineView(model: TraceModel, originUs: number, fromS: number, toS: number, maxSlices: number): TimelineView {
  const fromUs = originUs + fromS * 1e6;
  const toUs = originUs + toS * 1e6;
  const turns = model.turns;
  const inTurns: { turn: LoopTurn; endUs: number }[] = [];
  const inSlices: CallbackSlice[] = [];
  if (turns.length > 0 && toUs >= fromUs) {
    for (let i = firstTurnAt(turns, fromUs); i < turns.length && turns[i]!.startUs <= toUs; i++) {
      const turn = turns[i]!;
      const endUs = turnEndUs(turn);
      if (endUs < fromUs) continue;
      inTurns.push({ turn, endUs });
      for (const s of turn.slices) if (s.endUs >= fromUs && s.startUs <= toUs) inSlices.push(s);
    }
  }
  const keptTurns = longest(inTurns, maxSlices, (t) => t.endUs - t.turn.startUs);
  const keptSlices = longest(inSlices, maxSlices, (s) => s.endUs - s.startUs);
  const first = turns[0];
  const last = turns[turns.length - 1];
  return {
    fromS,
    toS,
    turns: keptTurns.map(({ turn, endUs }): TimelineTurn => ({ startS: seconds(turn.startUs, originUs), durationMs: toMs(endUs - turn.startUs), callbacks: turn.slices.length })),
    slices: keptSlices.map((s): TimelineSlice => ({ asyncId: s.asyncId, type: s.type, name: s.name ?? null, startS: seconds(s.startUs, originUs), durationMs: toMs(s.endUs - s.startUs), depth: s.depth })),
    hiddenTurns: inTurns.length - keptTurns.length,
    hiddenSlices: inSlices.length - keptSlices.length,
    extent: first && last ? { fromS: seconds(first.startUs, originUs), toS: seconds(turnEndUs(last), originUs) } : null,
    keepS: model.keepS,
    full: model.full,
    tracedFromAsyncId: model.firstTracedId ?? null,
  };
}

function resourceView(r: TracedResource, originUs: number): CausalityResource {
  let callbackUs = 0;
  for (const [start, end] of r.callbacks ?? []) callbackUs += end - start;
  return {
    asyncId: r.asyncId,
    type: r.type,
    name: r.name ?? null,
    triggerId: r.triggerId,
    initS: seconds(r.initUs, originUs),
    destroyedS: r.destroyedUs === undefined ? null : seconds(r.destroyedUs, originUs),
    callbacks: r.callbacks?.length ?? 0,
    callbackMs: toMs(callbackUs),
  };
}

interface MutableNode extends CausalityResource {
  children: MutableNode[];
  hiddenChildren: number;
}

/** The resource and what it caused, breadth first, so a bound keeps the nearest effects. */
function boundedTree(model: TraceModel, root: TracedResource, originUs: number): { tree: CausalityNode; hidden: number } {
  const tree: MutableNode = { ...resourceView(root, originUs), children: [], hiddenChildren: 0 };
  let budget = TREE_MAX_NODES - 1;
  let hidden = 0;
  let level: { node: MutableNode; resource: TracedResource }[] = [{ node: tree, resource: root }];
  // A resource can be its own descendant only through a reused id; never visit one twice.
  const seen = new Set<number>([root.asyncId]);
  for (let depth = 1; level.length > 0; depth++) {
    const next: typeof level = [];
    for (const { node, resource } of level) {
      for (const id of resource.children ?? []) {
        const child = model.resources.get(id);
        if (!child || seen.has(id)) continue;
        seen.add(id);
        if (budget <= 0 || depth > TREE_MAX_DEPTH) {
          node.hiddenChildren++;
          hidden++;
          continue;
        }
        budget--;
        const childNode: MutableNode = { ...resourceView(child, originUs), children: [], hiddenChildren: 0 };
        node.children.push(childNode);
        next.push({ node: childNode, resource: child });
      }
    }
    level = next;
  }
  return { tree, hidden };
}

/** The chain root → resource and the resource's subtree; null when the model does not hold it. */
export function causalityView(model: TraceModel, originUs: number, asyncId: number): CausalityView | null {
  const resource = model.resources.get(asyncId);
  if (!resource) return null;
  // Walk up to the root, keeping only the nearest causes (chains of timers can be very long).
  const nearest: TracedResource[] = [];
  const seen = new Set<number>();
  let root = resource;
  let length = 0;
  for (let r: TracedResource | undefined = resource; r && !seen.has(r.asyncId); r = model.resources.get(r.triggerId)) {
    seen.add(r.asyncId);
    if (nearest.length < CHAIN_NEAREST) nearest.push(r);
    root = r;
    length++;
  }
  const chainHidden = Math.max(0, length - CHAIN_NEAREST - 1);
  if (nearest[nearest.length - 1] !== root) nearest.push(root);
  const { tree, hidden } = boundedTree(model, resource, originUs);
  return {
    asyncId,
    chain: nearest.reverse().map((r) => resourceView(r, originUs)),
    chainHidden,
    rootTriggerId: root.triggerId,
    tree,
    treeHidden: hidden,
  };
}
