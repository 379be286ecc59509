// Takes the main thread's JavaScript stack from the watchdog worker, while the main thread
// is blocked. An inspector session connected to the main thread has its Runtime.evaluate
// served by a V8 interrupt, so the expression runs on top of whatever is blocking: its
// Error stack is the blocking code's stack. Inside a native call (gzipSync, readFileSync)
// the interrupt is served as soon as control returns to JavaScript, still inside the caller.

import type { StackFrame } from './wire';
import { MAX_STACK_FRAMES } from './wire';

/** Marks our own frames, so they can be cut from the stack we report. */
const SOURCE_URL = 'loopscope-probe-stack-capture';

// Runs inside the target: restores everything it touches, returns plain data. With
// --enable-source-maps, Node keeps the maps, and frames are mapped back to the sources
// (findSourceMap returns nothing otherwise, and the frames stay as they are).
const EXPRESSION = `(() => {
  const prepare = Error.prepareStackTrace, limit = Error.stackTraceLimit, holder = {};
  let findSourceMap;
  try { findSourceMap = require('node:module').findSourceMap; } catch {}
  const mapped = (file, line, column) => {
    try {
      const entry = findSourceMap && file && findSourceMap(file)?.findEntry(line - 1, column - 1);
      if (entry && entry.originalSource) return [entry.originalSource, entry.originalLine + 1, entry.originalColumn + 1];
    } catch {}
    return [file, line, column];
  };
  try {
    Error.stackTraceLimit = ${MAX_STACK_FRAMES + 4};
    Error.prepareStackTrace = (_, sites) => sites.map((s) => [
      String(s.getFunctionName() || s.getMethodName() || ''),
      ...mapped(String(s.getFileName() || s.getScriptNameOrSourceURL() || ''), s.getLineNumber() || 0, s.getColumnNumber() || 0),
    ]);
    Error.captureStackTrace(holder);
    return holder.stack;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
})()
//# sourceURL=${SOURCE_URL}`;

export interface InspectorLike {
  post(method: 'Runtime.evaluate', params: object, callback: (err: Error | null, result?: unknown) => void): void;
}

export type CaptureResult = { readonly stack: readonly StackFrame[] } | { readonly error: string };

/** Cleans up what the evaluation returned; anything unexpected becomes an error, not a throw. */
export function parseCapturedStack(value: unknown): CaptureResult {
  if (!Array.isArray(value)) return { error: 'the inspector returned no stack' };
  const frames: StackFrame[] = [];
  for (const raw of value) {
    if (!Array.isArray(raw) || raw.length !== 4) continue;
    const [functionName, url, lineNumber, columnNumber] = raw as unknown[];
    if (typeof functionName !== 'string' || typeof url !== 'string') continue;
    if (typeof lineNumber !== 'number' || typeof columnNumber !== 'number') continue;
    if (url === SOURCE_URL) continue;
    frames.push({ functionName, url, lineNumber, columnNumber });
    if (frames.length >= MAX_STACK_FRAMES) break;
  }
  if (frames.length === 0) return { error: 'the loop was free again before its stack could be taken' };
  return { stack: frames };
}

export function captureMainThreadStack(session: InspectorLike, callback: (result: CaptureResult) => void): void {
  session.post('Runtime.evaluate', { expression: EXPRESSION, returnByValue: true, silent: true, includeCommandLineAPI: true }, (err, result) => {
    if (err) return callback({ error: `inspector: ${err.message}` });
    const r = result as { result?: { value?: unknown }; exceptionDetails?: { text?: string } } | undefined;
    if (r?.exceptionDetails) return callback({ error: `stack capture threw: ${r.exceptionDetails.text ?? 'unknown error'}` });
    callback(parseCapturedStack(r?.result?.value));
  });
}
