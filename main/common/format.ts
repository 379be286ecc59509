// Small formatting helpers for the terminal views. Pure.

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

/** `name (file:line:col)`, with the cwd and file:// taken off the path to keep it short. */
export function formatFrame(frame: StackFrame, cwd = ''): string {
  let url = frame.url.startsWith('file://') ? decodeURIComponent(frame.url.slice('file://'.length)) : frame.url;
  if (cwd && url.startsWith(cwd + '/')) url = url.slice(cwd.length + 1);
  // No file: a V8 builtin (hasOwnProperty, Array.map) has no line either; eval'd code has one.
  const where = url ? `${url}:${frame.lineNumber}:${frame.columnNumber}` : frame.lineNumber > 0 ? `eval'd code:${frame.lineNumber}:${frame.columnNumber}` : 'built-in';
  return `${frame.functionName || '<anonymous>'} (${where})`;
}

/** The frames a user cares about first: their own code, not Node's internals. */
export function userFrames(stack: readonly StackFrame[]): readonly StackFrame[] {
  const own = stack.filter((f) => f.url !== '' && !f.url.startsWith('node:') && !f.url.startsWith('internal/'));
  return own.length > 0 ? own : stack;
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** A one-line chart of values, scaled to their own maximum. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(...values, 0);
  if (max <= 0) return SPARKS[0]!.repeat(values.length);
  return values.map((v) => SPARKS[Math.min(SPARKS.length - 1, Math.floor((v / max) * (SPARKS.length - 1) + 0.5))]).join('');
}

/** Cuts a line to the terminal width (in code points; good enough for our ASCII-ish lines). */
export function fit(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}
