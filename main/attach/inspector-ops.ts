// Small operations on a target's inspector, shared by attach and by the late closer.

import { performance } from 'node:perf_hooks';
import { CdpClient, listTargets, type InspectorTarget } from './inspector-client';
import { connectHost } from './inspector-address';
import { closeInspectorExpression } from './inject';
import type { Listener, ProcessSource } from './process-source';
import { hasExited } from '../system/process-exited';

export const POLL_MS = 10;
/** A listener that is not an inspector answers /json/list quickly, or not at all. */
export const LIST_TIMEOUT_MS = 1000;
export const CLOSE_TIMEOUT_MS = 2000;

export interface FoundInspector {
  readonly host: string;
  readonly port: number;
  readonly target: InspectorTarget;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function inspectorAt(listener: Listener): Promise<FoundInspector | undefined> {
  const host = connectHost(listener.address);
  try {
    const [target] = await listTargets(host, listener.port, LIST_TIMEOUT_MS);
    return target ? { host, port: listener.port, target } : undefined;
  } catch {
    return undefined;
  }
}

/** Asks the target to close its inspector; the connection asking goes down with it. */
export async function closeInspector(client: CdpClient, pid: number): Promise<void> {
  await Promise.race([
    client.evaluate(closeInspectorExpression(pid), CLOSE_TIMEOUT_MS).catch(() => undefined),
    new Promise<void>((resolve) => client.onClose(() => resolve())),
  ]);
}

/** Waits until the process no longer listens on `port`; false if it still does at the end. */
export async function waitClosed(source: ProcessSource, pid: number, port: number, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (hasExited(pid)) return true;
    const still = (await source.listenersOf(pid)).some((l) => l.port === port);
    if (!still) return true;
    if (performance.now() > end) return false;
    await sleep(POLL_MS);
  }
}

