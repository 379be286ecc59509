// What the CPU samples of a time range say: how many there were of each kind (code, idle, GC,
// V8's own, the probe's), each stack node's own samples, and each function's self and total
// samples, with the lines of its own samples. Pure; the JSON summary, the live view, the
// window and the exports all read a range through this.

import type { ProfileFrame, ProfileFrameKind } from '../../probe/wire';
import { frameKind as stackFrameKind } from '../common/format';
import type { ProfileRange, ProfileTree } from './profile-model';

export type SampleKind = 'code' | 'idle' | 'gc' | 'program' | 'probe';

export interface FunctionStats {
  readonly frame: ProfileFrame;
  /** Samples whose leaf was this function. */
  readonly self: number;
  /** Samples with this function anywhere on the stack (once each, recursion or not). */
  readonly total: number;
  /**
   * The program's own functions: samples whose innermost frame of the program's own code is
   * this one, so its self time plus that of the Node and native code it called (a Buffer's
   * toString, structuredClone): where the program spent its time, by its own code.
   */
  readonly own: number;
  /** The self samples by line (1-based), as V8 gives lines: for leaves, per harvest. */
  readonly lines: ReadonlyMap<number, number>;
}

export interface RangeStats {
  readonly samples: number;
  readonly intervalUs: number;
  readonly kinds: Readonly<Record<SampleKind, number>>;
  /** Each stack node's own samples (the node was the leaf). */
  readonly self: ReadonlyMap<number, number>;
  /** Each node's leaf lines in the range's harvests: node → line → samples. */
  readonly lines: ReadonlyMap<number, ReadonlyMap<number, number>>;
  /** Code only, the most self samples first. */
  readonly functions: readonly FunctionStats[];
}

const functionKey = (f: ProfileFrame): string => `${f.functionName}\n${f.url}\n${f.lineNumber}\n${f.columnNumber}`;

/** Whether a frame is the program's own code (not Node's, not a native or V8's). */
export function isUserCode(f: ProfileFrame): boolean {
  return f.kind === 'code' && stackFrameKind(f) === 'own';
}

/** What a sample was, from its leaf: code, or idle, GC, V8's own work, or the probe's. */
export function sampleKind(tree: ProfileTree, leaf: number): SampleKind {
  const kind: ProfileFrameKind = tree.frame(leaf).kind;
  if (kind === 'idle' || kind === 'gc' || kind === 'program' || kind === 'probe') return kind;
  if (kind === 'root') return 'program';
  for (let n = tree.parent(leaf); n !== 0; n = tree.parent(n)) if (tree.frame(n).kind === 'probe') return 'probe';
  return 'code';
}

/**
 * A leaf's samples split by line, in proportion to its line ticks (V8 counts lines per node
 * and harvest, not per sample); all on the function's own line when it has none.
 */
export function splitByLine(count: number, lines: ReadonlyMap<number, number> | undefined, fallbackLine: number): Map<number, number> {
  const out = new Map<number, number>();
  const total = lines ? [...lines.values()].reduce((a, b) => a + b, 0) : 0;
  if (!lines || total === 0) return out.set(fallbackLine, count);
  let left = count;
  const entries = [...lines].sort((a, b) => b[1] - a[1]);
  entries.forEach(([line, ticks], i) => {
    const share = i === entries.length - 1 ? left : Math.round((count * ticks) / total);
    left -= share;
    if (share > 0) out.set(line, (out.get(line) ?? 0) + share);
  });
  return out;
}

export function rangeStats(tree: ProfileTree, range: ProfileRange): RangeStats {
  const kinds: Record<SampleKind, number> = { code: 0, idle: 0, gc: 0, program: 0, probe: 0 };
  const self = new Map<number, number>();
  for (const node of range.nodes) self.set(node, (self.get(node) ?? 0) + 1);
  const lines = new Map<number, Map<number, number>>();
  for (const h of range.harvests) {
    for (let i = 0; i < h.ticks.length; i += 3) {
      const node = h.ticks[i]!;
      if (!self.has(node)) continue;
      const byLine = lines.get(node) ?? new Map<number, number>();
      byLine.set(h.ticks[i + 1]!, (byLine.get(h.ticks[i + 1]!) ?? 0) + h.ticks[i + 2]!);
      lines.set(node, byLine);
    }
  }
  const functions = new Map<string, { frame: ProfileFrame; self: number; total: number; own: number; lines: Map<number, number> }>();
  const fn = (f: ProfileFrame) => {
    const key = functionKey(f);
    let s = functions.get(key);
    if (!s) functions.set(key, (s = { frame: f, self: 0, total: 0, own: 0, lines: new Map() }));
    return s;
  };
  for (const [leaf, count] of self) {
    const kind = sampleKind(tree, leaf);
    kinds[kind] += count;
    if (kind !== 'code') continue;
    const leafFrame = tree.frame(leaf);
    const own = fn(leafFrame);
    own.self += count;
    // A native (no file) has no lines of its own: V8's ticks for it are its caller's.
    const leafLines = leafFrame.url === '' ? undefined : lines.get(leaf);
    for (const [line, n] of splitByLine(count, leafLines, leafFrame.lineNumber)) own.lines.set(line, (own.lines.get(line) ?? 0) + n);
    const seen = new Set<string>();
    let ownFound = false;
    for (let n = leaf; n !== 0; n = tree.parent(n)) {
      const f = tree.frame(n);
      if (f.kind !== 'code') continue;
      if (!ownFound && isUserCode(f)) {
        ownFound = true;
        fn(f).own += count;
      }
      const key = functionKey(f);
      if (seen.has(key)) continue;
      seen.add(key);
      fn(f).total += count;
    }
  }
  return {
    samples: range.nodes.length,
    intervalUs: range.intervalUs,
    kinds,
    self,
    lines,
    functions: [...functions.values()].sort((a, b) => b.self - a.self || b.total - a.total),
  };
}

/** The line most of a function's own samples were on (its own line when none is known). */
export function hottestLine(f: FunctionStats): number {
  let best = f.frame.lineNumber;
  let most = -1;
  for (const [line, n] of f.lines) if (n > most) [best, most] = [line, n];
  return best;
}
