// A blocked report's stack from the CPU samples taken inside the block. Pure: samples and the
// profile's tables in, a stack out.
//
// The samples make a tree (each sample is a stack). From its root, the report follows the
// child that holds most of its parent's samples, as long as one holds two thirds of them: the
// node it stops at is where the block's samples agree, and its path is the stack. A JSON.parse
// stops at its caller (V8 gives the builtin no frame), a sort with a comparator at the
// function that sorts (its samples are split between itself and the comparator), a Buffer
// call at the native leaf under the caller. Where they part before any frame of the program's
// own (at the root, or in Node's HTTP parser), that path says nothing of the block: it goes on
// into the heaviest part that reaches the program's code. The branches that hold a tenth of
// the samples or more, below where it stopped or beside the path, are the other things the
// block did.
//
// The line: V8 keeps lines for the leaf of each sample only (`positionTicks`, per node and
// harvest). When the first user frame is where the path stops, its heaviest line is the line
// of the blocking call. When it called further (into Node's code, a native), the line comes
// from the watchdog's interrupt stack if that has the same function, else from the source
// text (the only line of the function that calls the callee), else it is the function's own.
// Frames the samples cannot show (inlined, or compiled before the profiler started) come from
// the interrupt stack when it was taken inside the same call.

import type { BlockSampleKinds, LineSource, ProfileFrame, StackFrame } from './wire';
import { MAX_OTHER_STACKS, MAX_STACK_FRAMES } from './wire';

export interface SampleTree {
  frame(node: number): ProfileFrame;
  /** 0 for a root. */
  parent(node: number): number;
}

export interface BlameInput {
  /** The stack node of each sample inside the block. */
  readonly nodes: readonly number[];
  /** The leaves' lines in the harvests that hold the block: node → line → samples. */
  readonly lines: ReadonlyMap<number, ReadonlyMap<number, number>>;
  /** The watchdog's interrupt stack, when it was taken inside the block. */
  readonly interrupt: readonly StackFrame[] | undefined;
  /** The line of `frame`'s function that calls `callee`, from its source, if exactly one does. */
  readonly callLine?: (frame: ProfileFrame, callee: string) => number | undefined;
}

export interface Blame {
  readonly stack: readonly StackFrame[];
  /** Samples under the stack's innermost frame. */
  readonly samples: number;
  /** All the block's samples. */
  readonly sampled: number;
  readonly lineSource: LineSource;
  readonly kinds: BlockSampleKinds;
  /** Whether any of the block's samples ran JavaScript (else the stack is a frame such as "(garbage collector)"). */
  readonly ranCode: boolean;
  readonly others: readonly { readonly stack: readonly StackFrame[]; readonly samples: number }[];
}

/** A child holding this share of its parent's samples is where the time went. */
const DOMINANT = 2 / 3;
/** A branch holding this share of the block's samples is another thing the block did. */
const OTHER = 0.1;

export function isUserFrame(f: ProfileFrame): boolean {
  return f.kind === 'code' && f.url !== '' && !f.url.startsWith('node:') && !f.url.startsWith('internal/');
}

/** The block's stack, or undefined when none of its samples ran JavaScript. */
export function blameBlock(tree: SampleTree, input: BlameInput): Blame | undefined {
  const kinds = { gc: 0, idle: 0, program: 0, probe: 0 };
  const total = new Map<number, number>();
  const children = new Map<number, Set<number>>();
  const toUser = new Set<number>();
  let js = 0;
  for (const leaf of input.nodes) {
    const kind = sampleKind(tree, leaf);
    if (kind !== 'code') {
      if (kind === 'root') kinds.program++;
      else kinds[kind]++;
      continue;
    }
    js++;
    let user = false;
    for (let n = leaf, child = 0; n !== 0; child = n, n = tree.parent(n)) {
      total.set(n, (total.get(n) ?? 0) + 1);
      user ||= isUserFrame(tree.frame(n));
      if (user) toUser.add(n);
      if (child !== 0) addChild(children, n, child);
      if (tree.parent(n) === 0) addChild(children, 0, n);
    }
  }
  if (js === 0) return input.nodes.length === 0 ? undefined : notCode(tree, input.nodes, kinds);
  total.set(0, js);
  const weights: Weights = { total, children, toUser, js };
  const seen = new Set<string>();
  for (const n of total.keys()) if (n !== 0) seen.add(functionKey(tree.frame(n)));
  const branches: number[] = [];
  const best = descend(tree, 0, weights, branches);
  const { stack, lineSource } = stackOf(tree, best, input, seen);
  const others = branches
    .sort((a, b) => total.get(b)! - total.get(a)!)
    .slice(0, MAX_OTHER_STACKS)
    .map((b) => {
      const node = descend(tree, b, weights, []);
      return { stack: stackOf(tree, node, input, seen).stack, samples: total.get(node)! };
    });
  return { stack, samples: total.get(best)!, sampled: input.nodes.length, lineSource, kinds, ranCode: true, others };
}

/** The block's samples of JavaScript as a tree: each node's samples, its children, and which nodes lead to the program's own frames. */
interface Weights {
  readonly total: ReadonlyMap<number, number>;
  readonly children: ReadonlyMap<number, ReadonlySet<number>>;
  /** Nodes at or below which some sample has a frame of the program's own. */
  readonly toUser: ReadonlySet<number>;
  readonly js: number;
}

/** A block that ran no code: the frame most of its samples were in, "(garbage collector)" say. */
function notCode(tree: SampleTree, nodes: readonly number[], kinds: BlockSampleKinds): Blame {
  const count = new Map<string, number>();
  for (const n of nodes) {
    const name = tree.frame(n).kind === 'probe' ? '(loopscope probe)' : tree.frame(n).functionName;
    count.set(name, (count.get(name) ?? 0) + 1);
  }
  const [name, samples] = [...count].sort((a, b) => b[1] - a[1])[0]!;
  return { stack: [{ functionName: name, url: '', lineNumber: 0, columnNumber: 0 }], samples, sampled: nodes.length, lineSource: 'function', kinds, ranCode: false, others: [] };
}

function addChild(children: Map<number, Set<number>>, parent: number, child: number): void {
  let set = children.get(parent);
  if (!set) children.set(parent, (set = new Set()));
  set.add(child);
}

/** What a sample was: JavaScript, or GC, idle, V8's own (program), or the probe's own work. */
function sampleKind(tree: SampleTree, leaf: number): ProfileFrame['kind'] {
  const kind = tree.frame(leaf).kind;
  if (kind !== 'code') return kind;
  for (let n = tree.parent(leaf); n !== 0; n = tree.parent(n)) if (tree.frame(n).kind === 'probe') return 'probe';
  return 'code';
}

/**
 * From `from`, down the child holding two thirds of its parent's samples while there is one.
 * The heavier siblings left behind on the way, and the children where it stops, go into
 * `branches`.
 */
function descend(tree: SampleTree, from: number, w: Weights, branches: number[]): number {
  let node = from;
  let user = pathHasUser(tree, from);
  for (;;) {
    const kids = [...(w.children.get(node) ?? [])].sort((a, b) => w.total.get(b)! - w.total.get(a)! || Number(w.toUser.has(b)) - Number(w.toUser.has(a)));
    const next = nextNode(tree, node, kids, w, user);
    for (const k of kids) if (k !== next && w.total.get(k)! >= OTHER * w.js) branches.push(k);
    if (next === undefined) return node;
    node = next;
    user ||= isUserFrame(tree.frame(node));
  }
}

/**
 * Where the descent goes below `node` (`kids` heaviest first): to a child holding two thirds
 * of its samples. Else it stops where the samples part, unless no frame of the program's own
 * is on the way yet: a stack of Node's alone ("parserOnHeadersComplete", or none at all
 * where they part at the root) says nothing of the block, so it goes on to the heaviest child
 * that reaches the program's code, and from the root to the heaviest in any case (a block
 * that ran code has a stack).
 */
function nextNode(tree: SampleTree, node: number, kids: readonly number[], w: Weights, user: boolean): number | undefined {
  const heaviest = kids[0];
  if (heaviest === undefined) return undefined;
  if (w.total.get(heaviest)! >= DOMINANT * w.total.get(node)!) return heaviest;
  if (user) return undefined;
  const root = node === 0 || tree.frame(node).kind === 'root';
  return kids.find((k) => w.toUser.has(k)) ?? (root ? heaviest : undefined);
}

function pathHasUser(tree: SampleTree, node: number): boolean {
  for (let n = node; n !== 0; n = tree.parent(n)) if (isUserFrame(tree.frame(n))) return true;
  return false;
}

function sameFunction(a: StackFrame, f: ProfileFrame): boolean {
  return a.url === f.url && a.functionName === f.functionName;
}

/**
 * Where the interrupt stack has the profile's frame: the same file and name (the stack reader
 * names an anonymous function '' as V8 does); else, for an anonymous function, the first frame
 * of its file at or after the line where it starts.
 */
function findFrame(interrupt: readonly StackFrame[], f: ProfileFrame): number {
  const exact = interrupt.findIndex((a) => sameFunction(a, f));
  if (exact !== -1 || f.functionName !== '') return exact;
  return interrupt.findIndex((a) => a.url === f.url && a.lineNumber >= f.lineNumber);
}

const functionKey = (f: { readonly functionName: string; readonly url: string }): string => `${f.functionName}@${f.url}`;

/** The path from `node` to its root, innermost first, with the best lines known for it. `seen`: the functions in any of the block's samples. */
function stackOf(tree: SampleTree, node: number, input: BlameInput, seen: ReadonlySet<string>): { stack: StackFrame[]; lineSource: LineSource } {
  const path: number[] = [];
  for (let n = node; n !== 0 && path.length < MAX_STACK_FRAMES; n = tree.parent(n)) if (tree.frame(n).kind !== 'root') path.push(n);
  const user = path.findIndex((n) => isUserFrame(tree.frame(n)));
  let lineSource: LineSource = 'function';
  // The callers' call lines come from the interrupt stack when it was taken inside the same
  // call: it holds the first user frame too. From there outwards, frame by frame.
  const interrupt = input.interrupt ?? [];
  const inCall = user === -1 ? -1 : findFrame(interrupt, tree.frame(path[user]!));
  const stack = path.map((n, i): StackFrame => {
    const f = tree.frame(n);
    const own = { functionName: f.functionName, url: f.url, lineNumber: f.lineNumber, columnNumber: f.columnNumber };
    if (i === user) {
      const found = userLine(tree, path, i, input);
      lineSource = found.source;
      return { ...own, lineNumber: found.line, columnNumber: found.column };
    }
    const matched = inCall !== -1 && i > user ? interrupt[inCall + (i - user)] : undefined;
    if (matched && findFrame([matched], f) === 0) return { ...own, lineNumber: matched.lineNumber, columnNumber: matched.columnNumber };
    // Else the line of its one call of its callee, from the source: not the function's own
    // line, which would make the same place two groups, as the interrupt comes or not.
    const line = i > user && isUserFrame(f) ? callLineOf(tree, path, i, input) : undefined;
    return line === undefined ? own : { ...own, lineNumber: line, columnNumber: 0 };
  });
  // V8's samples show no function that was inlined into its caller, nor one whose code was
  // made before the profiler started (a loop compiled on the stack inside the very block in
  // which the profiler's first start came): the interrupt, taken in the same call, has the
  // program's own frames above the samples' first user frame, or above their innermost frame
  // where they show none (Node's timers, say), that no sample shows (not a sort's comparator,
  // which the samples show in a node of its own).
  const anchor = user === -1 ? 0 : user;
  const at = user === -1 ? (path.length === 0 ? -1 : findFrame(interrupt, tree.frame(path[0]!))) : inCall;
  const above = at > 0 ? interrupt.slice(0, at).filter(isUserStackFrame) : [];
  if (above.length > 0 && above.every((a) => !seen.has(functionKey(a)))) {
    return { stack: [...stack.slice(0, anchor), ...above, ...stack.slice(anchor)].slice(0, MAX_STACK_FRAMES), lineSource: 'interrupt' };
  }
  return { stack, lineSource };
}

/** A frame of the program's own, in a stack read by the interrupt (not Node's, nor the probe's). */
export function isUserStackFrame(f: StackFrame): boolean {
  return f.url !== '' && !f.url.startsWith('node:') && !f.url.startsWith('internal/') && !f.url.startsWith('loopscope-probe');
}

function userLine(tree: SampleTree, path: readonly number[], i: number, input: BlameInput): { line: number; column: number; source: LineSource } {
  const node = path[i]!;
  const f = tree.frame(node);
  // Where the path stops at the user frame, its own samples' lines are the blocking call's
  // (the profile table keeps only the lines inside the function).
  const lines = i === 0 ? [...(input.lines.get(node) ?? [])] : [];
  const matched = (input.interrupt ?? [])[findFrame(input.interrupt ?? [], f)];
  if (lines.length > 0) {
    const [line] = lines.sort((a, b) => b[1] - a[1])[0]!;
    // Line ticks have no column; an interrupt taken on the same line has.
    return { line, column: matched?.lineNumber === line ? matched.columnNumber : 0, source: 'samples' };
  }
  if (matched) return { line: matched.lineNumber, column: matched.columnNumber, source: 'interrupt' };
  const line = callLineOf(tree, path, i, input);
  if (line !== undefined) return { line, column: 0, source: 'source' };
  return { line: f.lineNumber, column: f.columnNumber, source: 'function' };
}

/** The line of `path[i]`'s one call of the function below it on the path, read from the source. */
function callLineOf(tree: SampleTree, path: readonly number[], i: number, input: BlameInput): number | undefined {
  const callee = i > 0 ? tree.frame(path[i - 1]!).functionName : '';
  return callee ? input.callLine?.(tree.frame(path[i]!), callee) : undefined;
}
