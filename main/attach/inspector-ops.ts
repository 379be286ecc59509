// Small operations on a target's inspector, shared by attach and by the late closer.

import { performance } from 'node:perf_hooks';
import { CdpClient, listTargets, type InspectorTarget } from './inspector-client';
import { addressesConflict, connectHost, websocketUrl } from './inspector-address';
import { closeLaterExpression, closeNowExpression, parseCloseResult, type CloseRequest } from './inject';
import type { Listener, ProcessSource } from './process-source';
import { hasExited } from '../system/process-exited';

export const POLL_MS = 10;
/** Polling a known port for the inspector to open: a refused connection costs next to nothing. */
export const OPEN_POLL_MS = 2;
/** A listener that is not an inspector answers /json/list quickly, or not at all. */
export const LIST_TIMEOUT_MS = 1000;
export const CLOSE_TIMEOUT_MS = 2000;

export interface FoundInspector {
  /** Where loopscope reaches it. */
  readonly host: string;
  /** The address it listens on, as the socket tables show it. */
  readonly address: string;
  readonly port: number;
  readonly target: InspectorTarget;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Whether the process exits within `ms`: when its inspector fails us, a process on its way out
 * (a connection refused as it goes) is told from an inspector that misbehaves.
 */
export async function exitsSoon(pid: number, ms = 300): Promise<boolean> {
  const end = performance.now() + ms;
  while (!hasExited(pid)) {
    if (performance.now() > end) return false;
    await sleep(POLL_MS);
  }
  return true;
}

export async function inspectorAt(listener: Listener): Promise<FoundInspector | undefined> {
  const host = connectHost(listener.address);
  try {
    const [target] = await listTargets(host, listener.port, LIST_TIMEOUT_MS);
    return target ? { host, address: listener.address, port: listener.port, target } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The last words on a connection to an inspector loopscope opened: close it now (inject.ts),
 * and disconnect. The target closes it again two loop turns later, which the caller has asked
 * for already (injectExpression, closeLaterExpression): SIGUSR1's pending wake-up may reopen it.
 */
export function closeNow(client: CdpClient, pid: number, request: CloseRequest): void {
  client.sendLastAndClose('Runtime.evaluate', { expression: closeNowExpression(pid, request), includeCommandLineAPI: true, silent: true });
}

/**
 * Connects to the inspector of `pid` on `port` (checked to be that process's own socket), asks
 * it to close now and again two loop turns later, and disconnects. Resolves with the local
 * port the request came from, or undefined when no inspector of that process listens there,
 * or it did not take the request.
 */
export async function askToClose(source: ProcessSource, pid: number, host: string, port: number): Promise<number | undefined> {
  const own = (await source.listenersOnPort(port, pid)).find((l) => l.pid === pid && addressesConflict(l.address, host));
  const found = own && (await inspectorAt(own));
  if (!found) return undefined;
  const client = await CdpClient.connect(websocketUrl(found.target.webSocketDebuggerUrl, found.host, found.port), CLOSE_TIMEOUT_MS);
  const request = closeRequest(found, client);
  const asked = await client.evaluate(closeLaterExpression(pid, request), CLOSE_TIMEOUT_MS).catch(() => undefined);
  if (!asked || parseCloseResult(asked.value).kind !== 'scheduled') {
    client.close();
    return undefined;
  }
  closeNow(client, pid, request);
  return client.localPort;
}

/** What the target needs to close the inspector `found` that `client` is connected to. */
export function closeRequest(found: FoundInspector, client: CdpClient): CloseRequest {
  return { port: found.port, clientPort: client.localPort, family: found.host.includes(':') ? 6 : 4 };
}

/** Whether `pid` itself listens on `port`. */
export async function listensOn(source: ProcessSource, pid: number, port: number): Promise<boolean> {
  return (await source.listenersOf(pid)).some((l) => l.port === port);
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

