// A session's CPU samples → what the window's profile draws for a time range (ui-api.ts'
// ProfileView): the flame graph's nodes, the bottom-up table, the samples over time for the
// range picker. Pure, and bounded whatever the range holds.

import type { ProfileFrame, ProfilerState } from '../../probe/wire';
import { frameKind } from '../common/format';
import type { ProfileModel } from '../session/profile-model';
import { rangeStats, sampleKind } from '../session/profile-stats';
import { unsampledTime } from '../session/sample-gaps';
import type { FlameNode, FunctionRow, ProfileFrameKind, ProfileFrameView, ProfileView } from './ui-api';

/** Flame graph nodes at most: more than a canvas can tell apart. */
export const MAX_FLAME_NODES = 3000;
/** Rows of the bottom-up table at most. */
const MAX_FUNCTIONS = 300;
/** The range picker shows this much of the latest samples, in steps. */
const ACTIVITY_S = 120;
const ACTIVITY_STEPS = 240;

function kindOf(f: { readonly kind: string; readonly url: string; readonly functionName: string; readonly lineNumber: number; readonly columnNumber: number }): ProfileFrameKind {
  if (f.kind === 'code') {
    const k = frameKind(f);
    return k === 'own' ? 'own' : k === 'node' ? 'node' : 'native';
  }
  return f.kind === 'root' ? 'program' : (f.kind as ProfileFrameKind);
}

/** `untilS`: the samples after it are not shown over time (a replay's, past its position and the range). */
export function profileView(model: ProfileModel, originUs: number, fromS: number, toS: number, profiler: ProfilerState | undefined, untilS = Infinity): ProfileView {
  const toUs = (s: number): number => originUs + s * 1e6;
  const toSec = (us: number): number => (us - originUs) / 1e6;
  const range = model.range(toUs(fromS), toUs(toS));
  const stats = rangeStats(model, range);
  const gaps = unsampledTime(model, range);
  const frames: ProfileFrameView[] = [];
  const frameIds = new Map<ProfileFrame, number>();
  const frameOf = (f: ProfileFrame): number => {
    let id = frameIds.get(f);
    if (id === undefined) {
      id = frames.length;
      frames.push({ functionName: f.functionName || '(anonymous)', url: f.url, lineNumber: f.lineNumber, columnNumber: f.columnNumber, kind: kindOf(f) });
      frameIds.set(f, id);
    }
    return id;
  };

  // The flame graph: the program's code (and the probe's), without idle, GC and V8's own time,
  // which `kinds` counts. V8's "(root)" is the graph's top itself.
  const total = new Map<number, number>();
  const depth = new Map<number, number>();
  const shown = (node: number): boolean => model.frame(node).kind !== 'root';
  for (const [leaf, count] of stats.self) {
    const kind = sampleKind(model, leaf);
    if (kind === 'idle' || kind === 'gc' || kind === 'program') continue;
    for (let n = leaf; n !== 0; n = model.parent(n)) if (shown(n)) total.set(n, (total.get(n) ?? 0) + count);
  }
  const parentShown = (node: number): number => {
    let p = model.parent(node);
    while (p !== 0 && !shown(p)) p = model.parent(p);
    return p;
  };
  const depthOf = (node: number): number => {
    let d = depth.get(node);
    if (d === undefined) depth.set(node, (d = parentShown(node) === 0 ? 0 : depthOf(parentShown(node)) + 1));
    return d;
  };
  // The heaviest nodes; a parent holds at least its child's samples, so it comes first.
  const kept = [...total].sort((a, b) => b[1] - a[1] || depthOf(a[0]) - depthOf(b[0])).slice(0, MAX_FLAME_NODES);
  const keptIds = new Set(kept.map(([n]) => n));
  const flame: FlameNode[] = kept
    .filter(([n]) => parentShown(n) === 0 || keptIds.has(parentShown(n)))
    .sort((a, b) => depthOf(a[0]) - depthOf(b[0]) || b[1] - a[1])
    .map(([n, t]) => ({ id: n, parent: parentShown(n), frame: frameOf(model.frame(n)), self: stats.self.get(n) ?? 0, total: t }));

  const byTotal = [...stats.functions].sort((a, b) => b.total - a.total).slice(0, MAX_FUNCTIONS / 3);
  const listed = new Set([...stats.functions.slice(0, MAX_FUNCTIONS), ...byTotal]);
  const functions: FunctionRow[] = [...listed].map((f) => ({
    frame: frameOf(f.frame),
    self: f.self,
    total: f.total,
    lines: [...f.lines].sort((a, b) => b[1] - a[1]),
  }));

  const held = model.extent;
  const extent = held && Math.min(held.toUs, toUs(untilS)) > held.fromUs ? { fromUs: held.fromUs, toUs: Math.min(held.toUs, toUs(untilS)) } : undefined;
  const activity = { fromS: 0, stepS: ACTIVITY_S / ACTIVITY_STEPS, code: [] as number[], idle: [] as number[] };
  if (extent) {
    const from = Math.max(extent.fromUs, extent.toUs - ACTIVITY_S * 1e6);
    const stepUs = ACTIVITY_S * 1e6 / ACTIVITY_STEPS;
    const steps = Math.max(1, Math.ceil((extent.toUs - from) / stepUs));
    activity.fromS = toSec(from);
    activity.code = new Array<number>(steps).fill(0);
    activity.idle = new Array<number>(steps).fill(0);
    const recent = model.range(from, extent.toUs);
    for (let i = 0; i < recent.nodes.length; i++) {
      const step = Math.min(steps - 1, Math.floor((recent.times[i]! - from) / stepUs));
      if (sampleKind(model, recent.nodes[i]!) === 'idle') activity.idle[step]!++;
      else activity.code[step]!++;
    }
  }

  return {
    fromS,
    toS,
    sampleIntervalMs: (stats.intervalUs || (profiler?.intervalMs ?? 0) * 1000) / 1000,
    samples: stats.samples,
    kinds: stats.kinds,
    frames,
    flame,
    hiddenNodes: total.size - flame.length,
    functions,
    extent: extent ? { fromS: toSec(extent.fromUs), toS: toSec(extent.toUs) } : null,
    activity,
    profiler: profiler ? { state: profiler.state, intervalMs: profiler.intervalMs, reason: profiler.reason ?? null } : null,
    unsampled: gaps
      ? { ms: gaps.missedUs / 1000, spanMs: gaps.spanUs / 1000, mostlyIn: gaps.mostlyIn ? { frame: frameOf(gaps.mostlyIn.frame), ms: gaps.mostlyIn.missedUs / 1000 } : null }
      : null,
  };
}
