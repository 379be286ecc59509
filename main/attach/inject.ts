// The expressions loopscope evaluates in a target through its inspector, and the reading of
// their results. Pure. Each expression catches everything itself, so nothing it does can
// throw into the target, and returns plain data by value.

import type { ProbeConfig } from '../../probe/wire';

export interface InjectRequest {
  /** The PID we mean: the expression does nothing in any other process. */
  readonly pid: number;
  readonly probeFile: string;
  readonly socketPath: string;
  readonly token: string;
  readonly config: ProbeConfig;
  /** Close the inspector afterwards (loopscope opened it): see closeNowExpression. */
  readonly close?: CloseRequest;
}

export interface CloseRequest {
  /** The inspector's port. */
  readonly port: number;
  /** The local port of loopscope's own connection to it. */
  readonly clientPort: number;
  /** The family of the address loopscope reached it on: where its clients show (tcp or tcp6). */
  readonly family: 4 | 6;
}

/** Globals (Symbol.for keys) the expressions leave in the target between them. */
const PENDING_START = 'loopscope.pending-start';
const START_ERROR = 'loopscope.start-error';
const global = (key: string): string => `globalThis[Symbol.for(${JSON.stringify(key)})]`;

const hexPort = (port: number): string => `:${port.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Declares `closeIfAlone()`, which closes the inspector if it is open and no client other than
 * loopscope is connected to it, and `startPending()`, which starts a probe the injection left
 * pending.
 *
 * Unless another client is connected: inspector.close() waits, on the main thread, for every
 * session to end, and a client that ignores the close frame freezes the process for as long
 * as it likes. The clients are read from /proc/self/net (Linux; elsewhere the close goes
 * ahead): one table, which costs the target a few ms (the kernel walks its connection hash).
 */
function closeHelpers(c: CloseRequest): string {
  return `const closeIfAlone = (() => {
    const inspector = require('inspector'), fs = require('fs');
    const others = () => {
      if (process.platform !== 'linux') return 0;
      let text = '';
      try { text = fs.readFileSync(${JSON.stringify(c.family === 6 ? '/proc/self/net/tcp6' : '/proc/self/net/tcp')}, 'latin1'); } catch (e) { return 0; }
      let n = 0;
      for (const line of text.split('\\n')) {
        const col = line.trim().split(/\\s+/);
        if (col[3] === '01' && col[1].endsWith(${JSON.stringify(hexPort(c.port))}) && !col[2].endsWith(${JSON.stringify(hexPort(c.clientPort))})) n++;
      }
      return n;
    };
    return () => { try { if (inspector.url() !== undefined && others() === 0) inspector.close(); } catch (e) {} };
  })();
  const startPending = () => {
    const start = ${global(PENDING_START)};
    ${global(PENDING_START)} = undefined;
    if (typeof start === 'function') start();
  };`;
}

/**
 * Closes the inspector again two loop turns later (and starts a pending probe then, if nothing
 * did before). SIGUSR1 both interrupts JavaScript and wakes the loop; on a busy loop the
 * interrupt opens the inspector first, and the wake-up, waiting for the loop's next poll
 * phase, opens it again there if it was closed meanwhile. An immediate queued from an
 * immediate runs after a poll phase that began after this ran, when that wake-up has been used
 * up (one immediate is not enough when this runs in an I/O callback: its check phase comes
 * before the next poll).
 */
const closeAgainLater = 'setImmediate(() => setImmediate(() => { closeIfAlone(); startPending(); }));';

/**
 * The probe is never loaded in the evaluation itself: a busy target serves an evaluation from
 * an interrupt, anywhere in its JavaScript, possibly in the middle of its own require of a
 * built-in module whose exports are still half made (a worker thread did just that: see
 * probe/worker-follow.ts). It is loaded from a promise reaction, which runs once the target's
 * stack is empty, or from an immediate. The promise is an async function's, V8's own: it does
 * not depend on what the program made of the global Promise.
 *
 * Confirms the process is the one we mean (nothing else happens in any other), loads the probe
 * by absolute path (a probe already loaded from there is reused from the module cache) and
 * starts it with the socket address and one-time token. `now` is the target's
 * performance.now(), to place its samples on loopscope's clock.
 *
 * With `close` (loopscope opened the inspector), the probe is left pending and the result is
 * 'scheduled': loading and starting it costs the target tens of ms, which need not be spent
 * with the inspector open, so it starts right after the inspector closes (closeNowExpression,
 * or two loop turns later). Only cheap checks run here: the file resolves, no probe of ours
 * runs already, and a start that failed like this last time has its error told now.
 */
export function injectExpression(r: InjectRequest): string {
  const file = JSON.stringify(r.probeFile);
  const start = `load(${file}).attach(${JSON.stringify({ socketPath: r.socketPath, token: r.token, config: r.config })})`;
  const head = `if (process.pid !== ${r.pid}) return { pid: process.pid };
  const now = performance.now();
  const load = typeof require === 'function' ? require : undefined;
  const failed = (e) => ({ pid: process.pid, now, result: { status: 'failed', error: String(e && e.message || e) } });`;
  if (!r.close) {
    return `(() => {
  ${head}
  if (!load) return failed('the inspector gave no require()');
  return (async () => {
    await undefined;
    try { return { pid: process.pid, now, result: ${start} }; } catch (e) { return failed(e); }
  })();
})()`;
  }
  return `(() => {
  ${head}
  try {
    ${closeHelpers(r.close)}
    ${closeAgainLater}
  } catch (e) {}
  if (!load) return failed('the inspector gave no require()');
  const previous = ${global(START_ERROR)};
  if (previous !== undefined) {
    ${global(START_ERROR)} = undefined;
    return failed(previous);
  }
  let cached;
  try { cached = load.cache && load.cache[load.resolve(${file})]; } catch (e) { return failed(e); }
  const version = cached && typeof cached.exports.runningVersion === 'function' ? cached.exports.runningVersion() : undefined;
  if (version) return { pid: process.pid, now, result: { status: 'already-running', version } };
  ${global(PENDING_START)} = () => {
    try { const started = ${start}; if (started.status === 'failed') ${global(START_ERROR)} = started.error; } catch (e) { ${global(START_ERROR)} = String(e && e.message || e); }
  };
  return { pid: process.pid, now, result: { status: 'scheduled' } };
})()`;
}

/**
 * Closes the inspector of process `pid` now, unless another client is connected, and starts a
 * probe the injection left pending. Sent last on a connection. When it closes the inspector, no
 * answer comes: the close ends the connection. Otherwise the answer comes, and loopscope ends
 * the connection then, never before (CdpClient.close says why).
 */
export function closeNowExpression(pid: number, close: CloseRequest): string {
  return `(() => {
  if (process.pid !== ${pid}) return;
  try {
    ${closeHelpers(close)}
    closeIfAlone();
    (async () => { await undefined; startPending(); })();
  } catch (e) {}
})()`;
}

/** Closes the inspector of process `pid` two loop turns later (see closeAgainLater); returns the target's performance.now(). */
export function closeLaterExpression(pid: number, close: CloseRequest): string {
  return `(() => {
  if (process.pid !== ${pid}) return { pid: process.pid };
  const now = performance.now();
  try {
    ${closeHelpers(close)}
    ${closeAgainLater}
  } catch (e) { return { pid: process.pid, now, error: String(e && e.message || e) }; }
  return { pid: process.pid, now };
})()`;
}

export type InjectOutcome =
  | { readonly kind: 'wrong-process'; readonly pid: number }
  | { readonly kind: 'started'; readonly version: string }
  /** It starts once the inspector has closed (injectExpression with `close`). */
  | { readonly kind: 'scheduled' }
  | { readonly kind: 'already-running'; readonly version: string }
  | { readonly kind: 'failed'; readonly error: string };

export function parseInjectResult(value: unknown): InjectOutcome {
  const o = value as { pid?: unknown; result?: { status?: unknown; version?: unknown; error?: unknown } } | null;
  if (!o || typeof o !== 'object' || typeof o.pid !== 'number') return { kind: 'failed', error: 'the inspector returned no result' };
  if (!o.result) return { kind: 'wrong-process', pid: o.pid };
  const { status, version, error } = o.result;
  if (status === 'scheduled') return { kind: 'scheduled' };
  if (status === 'started' || status === 'already-running') return { kind: status, version: typeof version === 'string' ? version : 'unknown' };
  return { kind: 'failed', error: typeof error === 'string' ? error : 'the probe did not say why' };
}

/** The target's performance.now() when an expression of ours ran there, if it said. */
export function targetNowOf(value: unknown): number | undefined {
  const now = (value as { now?: unknown } | null)?.now;
  return typeof now === 'number' && Number.isFinite(now) ? now : undefined;
}

export type CloseOutcome =
  | { readonly kind: 'scheduled' }
  | { readonly kind: 'wrong-process'; readonly pid: number }
  | { readonly kind: 'failed'; readonly error: string };

export function parseCloseResult(value: unknown): CloseOutcome {
  const o = value as { pid?: unknown; now?: unknown; error?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.pid !== 'number') return { kind: 'failed', error: 'the inspector returned no result' };
  if (o.now === undefined) return { kind: 'wrong-process', pid: o.pid };
  if (o.error !== undefined) return { kind: 'failed', error: String(o.error) };
  return { kind: 'scheduled' };
}
