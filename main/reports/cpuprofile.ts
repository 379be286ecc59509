// A time range of CPU samples as Chrome DevTools' .cpuprofile: the Profiler.Profile JSON that
// `node --cpu-prof` writes, which DevTools' Performance panel and speedscope open. Pure.
//
// Its shape, as `node --cpu-prof` writes it: { nodes, startTime, endTime, samples,
// timeDeltas }; each node { id, callFrame: { functionName, scriptId, url, lineNumber,
// columnNumber }, hitCount, children?, positionTicks? }, the root first; lines and columns
// 0-based (positionTicks' lines 1-based); times in µs, the first delta from startTime.

import { pathToFileURL } from 'node:url';
import type { ProfileFrame } from '../../probe/wire';
import type { ProfileRange, ProfileTree } from '../session/profile-model';
import { rangeStats } from '../session/profile-stats';

export interface CpuProfileCallFrame {
  readonly functionName: string;
  readonly scriptId: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: CpuProfileCallFrame;
  readonly hitCount: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

export interface CpuProfile {
  readonly nodes: CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** A frame's URL as V8 gives it: files as file:// URLs (the probe sends paths). */
export function scriptUrl(url: string): string {
  return url.startsWith('/') ? pathToFileURL(url).href : url;
}

/** `frame` as a call frame of the export; script ids are made up, one per URL. */
export function callFrameOf(frame: ProfileFrame, scriptId: (url: string) => string): CpuProfileCallFrame {
  return {
    functionName: frame.functionName,
    scriptId: frame.url === '' ? '0' : scriptId(frame.url),
    url: scriptUrl(frame.url),
    lineNumber: frame.lineNumber - 1,
    columnNumber: frame.columnNumber - 1,
  };
}

export function toCpuProfile(tree: ProfileTree, range: ProfileRange): CpuProfile {
  const stats = rangeStats(tree, range);
  const scripts = new Map<string, string>();
  const scriptId = (url: string): string => {
    let id = scripts.get(url);
    if (id === undefined) scripts.set(url, (id = String(scripts.size + 1)));
    return id;
  };
  // One root: the model's "(root)" nodes (one per reset of the probe's tables, at most a few) are it.
  let rootHits = 0;
  for (const [n, count] of stats.self) if (tree.parent(n) === 0 && tree.frame(n).kind === 'root') rootHits += count;
  const root: CpuProfileNode = { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, hitCount: rootHits, children: [] };
  const nodes: CpuProfileNode[] = [root];
  const ids = new Map<number, number>();
  const idOf = (node: number): number => {
    const known = ids.get(node);
    if (known !== undefined) return known;
    const chain: number[] = [];
    for (let n = node; n !== 0 && !ids.has(n); n = tree.parent(n)) chain.push(n);
    for (let i = chain.length - 1; i >= 0; i--) {
      const n = chain[i]!;
      const parent = tree.parent(n);
      const parentId = parent === 0 ? 1 : ids.get(parent)!;
      if (parent === 0 && tree.frame(n).kind === 'root') {
        ids.set(n, 1);
        continue;
      }
      const out: CpuProfileNode = { id: nodes.length + 1, callFrame: callFrameOf(tree.frame(n), scriptId), hitCount: stats.self.get(n) ?? 0 };
      const lines = stats.lines.get(n);
      if (lines && lines.size > 0 && tree.frame(n).url !== '') out.positionTicks = [...lines].map(([line, ticks]) => ({ line, ticks }));
      nodes.push(out);
      ids.set(n, out.id);
      const p = nodes[parentId - 1]!;
      (p.children ??= []).push(out.id);
    }
    return ids.get(node)!;
  };
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  const startTime = Math.floor(range.times.length > 0 ? Math.max(range.fromUs, range.times[0]! - range.intervalUs) : range.fromUs);
  let last = startTime;
  for (let i = 0; i < range.nodes.length; i++) {
    samples.push(idOf(range.nodes[i]!));
    const t = Math.round(range.times[i]!);
    timeDeltas.push(t - last);
    last = t;
  }
  if (root.children?.length === 0) delete root.children;
  return { nodes, startTime, endTime: Math.max(last, startTime), samples, timeDeltas };
}
