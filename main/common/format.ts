// How numbers, durations and stack frames are written, the same in the terminal views, the
// reports and the window. Pure, with no Node API: the renderer imports it too.

import type { StackFrame } from '../../probe/wire';

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${bytes} B`;
}

export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** mm:ss (or h:mm:ss) of a duration. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** What a frame is: the program's own code, Node's, a V8 builtin (no file, no line), or eval'd code. */
export type FrameKind = 'own' | 'node' | 'builtin' | 'eval';

export interface FrameParts {
  readonly name: string;
  /** `file:line:column` (the file shortened), `eval'd code:line:column`, or `built-in`. */
  readonly where: string;
  readonly kind: FrameKind;
}

export function frameKind(frame: StackFrame): FrameKind {
  if (frame.url === '') return frame.lineNumber > 0 ? 'eval' : 'builtin';
  return frame.url.startsWith('node:') || frame.url.startsWith('internal/') ? 'node' : 'own';
}

/** A file:// URL's path; any other URL, or a malformed one (it comes from the target), as it is. */
export function urlPath(url: string): string {
  if (!url.startsWith('file://')) return url;
  try {
    return decodeURIComponent(url.slice('file://'.length));
  } catch {
    return url;
  }
}

/** A frame's parts, with the cwd and file:// taken off its path to keep it short. */
export function frameParts(frame: StackFrame, cwd = ''): FrameParts {
  const kind = frameKind(frame);
  let url = urlPath(frame.url);
  if (cwd && url.startsWith(cwd + '/')) url = url.slice(cwd.length + 1);
  // A column of 0 is unknown (a line found from CPU samples has none).
  const column = frame.columnNumber > 0 ? `:${frame.columnNumber}` : '';
  const where = kind === 'builtin' ? 'built-in' : `${kind === 'eval' ? "eval'd code" : url}:${frame.lineNumber}${column}`;
  return { name: frame.functionName || '(anonymous)', where, kind };
}

/** `name (file:line:col)`. */
export function formatFrame(frame: StackFrame, cwd = ''): string {
  const { name, where } = frameParts(frame, cwd);
  return `${name} (${where})`;
}

/** The frames a user cares about first: their own code, not Node's internals. */
export function userFrames(stack: readonly StackFrame[]): readonly StackFrame[] {
  const own = stack.filter((f) => frameKind(f) === 'own');
  return own.length > 0 ? own : stack;
}

/** A noun for a count: "1 resource", "59 resources". */
export const nounFor = (n: number, noun: string): string => (n === 1 ? noun : `${noun}s`);
