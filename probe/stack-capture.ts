// Takes the main thread's JavaScript stack from the watchdog worker, while the main thread
// is blocked. An inspector session connected to the main thread has its Runtime.evaluate
// served by a V8 interrupt, so the expression runs on top of whatever is blocking: its
// Error stack is the blocking code's stack. Inside a native call (gzipSync, readFileSync)
// the interrupt is served as soon as control returns to JavaScript, still inside the caller.

import type { StackFrame } from './wire';
import { clipName, MAX_STACK_FRAMES } from './wire';
import { FRAME_MAPPER_KEY, STACK_READER_KEY, type RawPosition } from './stack-here';

/** Marks our own frame (the evaluation's), so it can be cut from the stack we report. */
const SOURCE_URL = 'loopscope-probe-stack-capture';

// Calls the reader the probe left on the main thread's global object (stack-here.ts): the
// evaluation compiles only this line.
const EXPRESSION = `globalThis[Symbol.for(${JSON.stringify(STACK_READER_KEY)})]?.()
//# sourceURL=${SOURCE_URL}`;

export interface InspectorLike {
  post(method: 'Runtime.evaluate', params: object, callback: (err: Error | null, result?: unknown) => void): void;
}

/** `atMs`: when it was read, on the main thread's performance.now() clock. */
export type CaptureResult = { readonly stack: readonly StackFrame[]; readonly atMs?: number } | { readonly error: string };

/**
 * An interrupt served inside the probe's own code shows the probe, not what blocked the loop:
 * right after a GC pause the first JavaScript to run is often the GC observer's callback (the
 * loop's thread served the interrupt there, once the pause had ended). No stack then, and why.
 */
export function outsideProbe(result: CaptureResult, probeFile: string): CaptureResult {
  if (!('stack' in result) || !result.stack.some((f) => f.url === probeFile)) return result;
  return { error: "the stack was read in loopscope's own code, after what blocked the loop (a GC pause, native code) had returned" };
}

/** Cleans up what the evaluation returned ({ atMs, frames }); anything unexpected becomes an error, not a throw. */
export function parseCapturedStack(value: unknown): CaptureResult {
  const o = value as { atMs?: unknown; frames?: unknown } | null | undefined;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.frames)) return { error: 'the inspector returned no stack' };
  const frames: StackFrame[] = [];
  for (const raw of o.frames as unknown[]) {
    if (!Array.isArray(raw) || raw.length !== 4) continue;
    const [functionName, url, lineNumber, columnNumber] = raw as unknown[];
    if (typeof functionName !== 'string' || typeof url !== 'string') continue;
    if (typeof lineNumber !== 'number' || typeof columnNumber !== 'number') continue;
    if (url === SOURCE_URL) continue;
    frames.push({ functionName: clipName(functionName), url: clipName(url), lineNumber, columnNumber });
    if (frames.length >= MAX_STACK_FRAMES) break;
  }
  if (frames.length === 0) return { error: 'the loop was free again before its stack could be taken' };
  return typeof o.atMs === 'number' && Number.isFinite(o.atMs) ? { stack: frames, atMs: o.atMs } : { stack: frames };
}

/**
 * `stack` with its files and lines mapped through the main thread's source maps, or as it was
 * when they cannot be (the map, or the inspector, says nothing). The CPU samples' frames are the
 * compiled code's; the interrupt's are mapped as they are read.
 */
export function mapOnMainThread(session: InspectorLike, stack: readonly StackFrame[], callback: (mapped: readonly StackFrame[]) => void): void {
  const positions: RawPosition[] = stack.map((f) => [f.url, f.lineNumber, f.columnNumber]);
  const expression = `globalThis[Symbol.for(${JSON.stringify(FRAME_MAPPER_KEY)})]?.(${JSON.stringify(positions)})\n//# sourceURL=${SOURCE_URL}`;
  session.post('Runtime.evaluate', { expression, returnByValue: true, silent: true }, (err, result) => {
    const value = (result as { result?: { value?: unknown } } | undefined)?.result?.value;
    if (err || !Array.isArray(value) || value.length !== stack.length) return callback(stack);
    callback(stack.map((f, i) => {
      const [url, line, column] = value[i] as unknown[];
      return typeof url === 'string' && url !== '' && typeof line === 'number' && typeof column === 'number'
        ? { ...f, url: clipName(url), lineNumber: line, columnNumber: column }
        : f;
    }));
  });
}

export function captureMainThreadStack(session: InspectorLike, callback: (result: CaptureResult) => void): void {
  session.post('Runtime.evaluate', { expression: EXPRESSION, returnByValue: true, silent: true }, (err, result) => {
    if (err) return callback({ error: `inspector: ${err.message}` });
    const r = result as { result?: { value?: unknown }; exceptionDetails?: { text?: string } } | undefined;
    if (r?.exceptionDetails) return callback({ error: `stack capture threw: ${r.exceptionDetails.text ?? 'unknown error'}` });
    callback(parseCapturedStack(r?.result?.value));
  });
}
