// The main thread's half of taking its own stack while it is blocked (the worker's half is
// stack-capture.ts). The function that reads the stack is made here, once, when the probe
// starts, and left on the global object under a symbol: the worker's Runtime.evaluate then
// only calls it. Compiling the whole reader in each evaluation, with the command-line API
// that its `require` needed, cost the blocked thread about a millisecond per capture, and a
// saturated server sharing its CPU is seen "blocked" a dozen times a second.

import { findSourceMap } from 'node:module';
import { performance } from 'node:perf_hooks';
import { MAX_STACK_FRAMES } from './wire';

/** Where the worker's evaluation finds the reader. */
export const STACK_READER_KEY = 'loopscope.readStack';

/**
 * Where the worker's evaluation finds the mapper of frames through their source maps: the
 * CPU samples' frames are the compiled code's, and the maps are this thread's (Node keeps them
 * per thread).
 */
export const FRAME_MAPPER_KEY = 'loopscope.mapFrames';

/** A frame as the mapper takes and returns it: url, 1-based line and column (0: unknown). */
export type RawPosition = [string, number, number];

/** One frame as the reader returns it: function name, url, 1-based line and column. */
export type RawStackFrame = [string, string, number, number];

/**
 * What the reader returns: when it ran (performance.now(): the interrupt may be served after
 * the block it was asked for has ended), and the frames.
 */
export interface RawStack {
  readonly atMs: number;
  readonly frames: RawStackFrame[];
}

interface CallSiteLike {
  getFunctionName(): string | null;
  getFileName(): string | undefined | null;
  getScriptNameOrSourceURL(): string | undefined | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
}

/**
 * Puts the reader on the global object, under a symbol and not enumerable (a spread or
 * Object.assign of globalThis does not copy it); returns what takes it off again.
 */
export function installStackReader(): () => void {
  const key = Symbol.for(STACK_READER_KEY);
  // process.sourceMapsEnabled follows process.setSourceMapsEnabled(). Nodes before 18.19 and
  // 20.7 lack it, and their target may have called that: there, always look.
  const mapsOn = (): boolean => (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled ?? true;

  const mapped = (file: string, line: number, column: number): [string, number, number] => {
    // Node's own modules have no source maps; with maps off, Node keeps none to look in.
    if (!file || file.startsWith('node:') || !mapsOn()) return [file, line, column];
    try {
      const entry = findSourceMap(file)?.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
      if (entry?.originalSource && entry.originalLine !== undefined && entry.originalColumn !== undefined) {
        return [entry.originalSource, entry.originalLine + 1, entry.originalColumn + 1];
      }
    } catch {
      // a map that cannot be read: the frame as it is
    }
    return [file, line, column];
  };

  // Runs on top of the blocking code, in an interrupt: restores what it touches, never throws.
  const readStack = (): RawStack => ({ atMs: performance.now(), frames: readFrames() });
  const readFrames = (): RawStackFrame[] => {
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    const holder: { stack?: unknown } = {};
    try {
      Error.stackTraceLimit = MAX_STACK_FRAMES + 1; // and the evaluation's own frame
      Error.prepareStackTrace = (_error, sites) => sites;
      // Without the reader's own frames: the stack starts at the evaluation's.
      Error.captureStackTrace(holder, readStack);
      const sites = holder.stack as CallSiteLike[];
      return sites.map((s) => {
        const [url, line, column] = mapped(String(s.getFileName() || s.getScriptNameOrSourceURL() || ''), s.getLineNumber() || 0, s.getColumnNumber() || 0);
        // The function's name as V8's profiler gives it: an anonymous one stays '' (not the
        // method that holds it, such as a timer's _onTimeout), so that a block's stack reads,
        // and groups, the same whether it came from the samples or from here.
        return [String(s.getFunctionName() || ''), url, line, column];
      });
    } catch {
      return [];
    } finally {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = limit;
    }
  };

  // Never throws: a position it cannot map comes back as it was. An unknown column maps the line.
  const mapFrames = (positions: unknown): RawPosition[] => {
    if (!Array.isArray(positions)) return [];
    return positions.map((p): RawPosition => {
      const [file, line, column] = Array.isArray(p) ? (p as unknown[]) : [];
      if (typeof file !== 'string' || typeof line !== 'number' || typeof column !== 'number') return ['', 0, 0];
      const [url, l, c] = mapped(file, line, Math.max(1, column));
      return [url, l, column === 0 ? 0 : c];
    });
  };

  const mapperKey = Symbol.for(FRAME_MAPPER_KEY);
  Object.defineProperty(globalThis, key, { value: readStack, configurable: true, enumerable: false, writable: false });
  Object.defineProperty(globalThis, mapperKey, { value: mapFrames, configurable: true, enumerable: false, writable: false });
  return () => {
    const g = globalThis as Record<symbol, unknown>;
    if (g[key] === readStack) delete g[key];
    if (g[mapperKey] === mapFrames) delete g[mapperKey];
  };
}
