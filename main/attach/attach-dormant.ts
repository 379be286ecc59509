// Attaching through a dormant probe (probe/wake.ts): the process was started with the probe
// preloaded, and it waits on a private socket. Waking it takes the same one-time token and
// probe-server address as an injection, over that socket: no signal, no inspector.

import { performance } from 'node:perf_hooks';
import type { ProbeConnection } from '../server/probe-server';
import type { AttachRequest, Attached } from './attach';
import { AttachError } from './errors';
import { hasExited } from '../system/process-exited';
import { abortable, within } from './probe-connection';
import { wakeProbe } from './wake-probe';

export interface DormantAttach extends AttachRequest {
  /** The probe's socket, as loopscope reaches it. */
  readonly address: string;
  readonly token: string;
  readonly connected: Promise<ProbeConnection>;
  readonly startedMs: number;
  readonly deadline: number;
  readonly nodeVersion: string | undefined;
}

export async function wakeDormantProbe(a: DormantAttach): Promise<Attached> {
  const { pid } = a;
  const checkedMs = performance.now();
  const remaining = (): number => Math.max(1, a.deadline - performance.now());
  a.onProgress?.(`waking the probe in process ${pid}…`);
  const answer = await abortable(wakeProbe(a.address, { socketPath: a.server.address, token: a.token, config: a.config }, remaining()), a.signal);
  if (answer.status === 'already-running') {
    throw new AttachError('already-attached', `process ${pid} already has a loopscope probe (${answer.version}) running, connected to another loopscope; stop that one (Ctrl-C) and attach again.`);
  }
  if (answer.status === 'failed') throw new AttachError('probe-failed', `the probe in process ${pid} could not start: ${answer.error}.`);
  const injectedMs = performance.now();
  const connection = await within(a.connected, remaining(), () => (hasExited(pid)
    ? new AttachError('target-exited', `process ${pid} exited while loopscope was attaching to it.`)
    : new AttachError('probe-failed', `the probe in process ${pid} started but did not connect back within ${(a.timeoutMs / 1000).toFixed(1)} s.`)), a.signal);
  return {
    connection,
    nodeVersion: a.nodeVersion ?? connection.hello.nodeVersion,
    via: 'probe',
    inspector: undefined,
    timings: { startedMs: a.startedMs, checkedMs, signalledMs: undefined, inspectorOpenMs: undefined, injectedMs, connectedMs: performance.now() },
    warnings: [],
    problem: undefined,
  };
}
