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
}

/**
 * Confirms the process is the one we mean, then loads the probe by absolute path (a probe
 * already loaded from that path is reused from the module cache) and starts it. One round
 * trip, so the inspector stays open as briefly as possible.
 */
export function injectExpression(r: InjectRequest): string {
  const options = JSON.stringify({ socketPath: r.socketPath, token: r.token, config: r.config });
  return `(() => {
  if (process.pid !== ${r.pid}) return { pid: process.pid };
  try {
    if (typeof require !== 'function') return { pid: process.pid, result: { status: 'failed', error: 'the inspector gave no require()' } };
    return { pid: process.pid, result: require(${JSON.stringify(r.probeFile)}).attach(${options}) };
  } catch (e) {
    return { pid: process.pid, result: { status: 'failed', error: String(e && e.message || e) } };
  }
})()`;
}

/** Closes the inspector server of process `pid` (the connection that asked goes with it). */
export function closeInspectorExpression(pid: number): string {
  return `(() => {
  if (process.pid !== ${pid}) return 'not process ${pid}';
  try { require('inspector').close(); return 'closed'; } catch (e) { return String(e && e.message || e); }
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
