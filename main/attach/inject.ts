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
  /** Close the inspector afterwards (loopscope opened it): see closeSoonStatement. */
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

const hexPort = (port: number): string => `:${port.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Statements that close the inspector two loop turns later, and only if no client but
 * loopscope is connected to it then.
 *
 * Two turns: SIGUSR1 both interrupts JavaScript and wakes the loop, and on a busy loop the
 * interrupt opens the inspector first while the wake-up waits for the loop's next poll phase,
 * where it opens the inspector again if it is closed by then. An immediate queued from an
 * immediate runs after a poll phase that began after this expression ran, so that wake-up has
 * been used up by then (a single immediate is not enough when the expression runs in an I/O
 * callback: its check phase comes before the next poll).
 *
 * Only if no other client: inspector.close() waits, on the main thread, for every session to
 * end, and a client that ignores the close frame freezes the process for as long as it likes.
 * The clients are read from /proc/self/net (Linux; elsewhere the close goes ahead): one table,
 * which costs the target a few ms (the kernel walks its whole connection hash), once.
 */
function closeSoonStatement(c: CloseRequest): string {
  return `{
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
    setImmediate(() => setImmediate(() => {
      try { if (others() === 0) inspector.close(); } catch (e) {}
    }));
  }`;
}

/**
 * Confirms the process is the one we mean, then loads the probe by absolute path (a probe
 * already loaded from that path is reused from the module cache), starts it, and schedules
 * the inspector's close. One round trip, so the inspector stays open as briefly as possible.
 * `now` is the target's performance.now(), to place its samples on loopscope's clock.
 */
export function injectExpression(r: InjectRequest): string {
  const options = JSON.stringify({ socketPath: r.socketPath, token: r.token, config: r.config });
  return `(() => {
  if (process.pid !== ${r.pid}) return { pid: process.pid };
  const now = performance.now();
  let result;
  try {
    if (typeof require !== 'function') return { pid: process.pid, now, result: { status: 'failed', error: 'the inspector gave no require()' } };
    result = require(${JSON.stringify(r.probeFile)}).attach(${options});
  } catch (e) {
    result = { status: 'failed', error: String(e && e.message || e) };
  }
  ${r.close ? `try ${closeSoonStatement(r.close)} catch (e) {}` : ''}
  return { pid: process.pid, now, result };
})()`;
}

/** Closes the inspector of process `pid` as the injection does; returns the target's performance.now(). */
export function closeInspectorExpression(pid: number, close: CloseRequest): string {
  return `(() => {
  if (process.pid !== ${pid}) return { pid: process.pid };
  const now = performance.now();
  try ${closeSoonStatement(close)} catch (e) { return { pid: process.pid, now, error: String(e && e.message || e) }; }
  return { pid: process.pid, now };
})()`;
}

export type InjectOutcome =
  | { readonly kind: 'wrong-process'; readonly pid: number }
  | { readonly kind: 'started'; readonly version: string }
  | { readonly kind: 'already-running'; readonly version: string }
  | { readonly kind: 'failed'; readonly error: string };

export function parseInjectResult(value: unknown): InjectOutcome {
  const o = value as { pid?: unknown; result?: { status?: unknown; version?: unknown; error?: unknown } } | null;
  if (!o || typeof o !== 'object' || typeof o.pid !== 'number') return { kind: 'failed', error: 'the inspector returned no result' };
  if (!o.result) return { kind: 'wrong-process', pid: o.pid };
  const { status, version, error } = o.result;
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
