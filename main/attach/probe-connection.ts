// Waiting for the probe that attach started to connect back: by its one-time token, within
// the attach's time, and abortable (Ctrl-C).

import type { ProbeConnection, ProbeServer } from '../server/probe-server';
import { AttachError } from './errors';

/**
 * The main thread's connection that will show `token` (the process's worker threads show it
 * too); registered before the probe can start, so that a quick hello is not missed.
 */
export function connectionWith(server: ProbeServer, token: string): Promise<ProbeConnection> {
  return new Promise((resolve) => {
    server.onConnection((c) => {
      if (c.hello.token === token && c.hello.threadId === 0) resolve(c);
    });
  });
}

/** `connected`, or `late()`'s error once `ms` have passed, or 'interrupted' when `signal` aborts. */
export function within<T>(connected: Promise<T>, ms: number, late: () => AttachError, signal: AbortSignal | undefined): Promise<T> {
  let giveUp: NodeJS.Timeout | undefined;
  return abortable(
    Promise.race([connected, new Promise<never>((_, reject) => (giveUp = setTimeout(() => reject(late()), ms)))]),
    signal,
  ).finally(() => clearTimeout(giveUp));
}

export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AttachError('interrupted', 'attaching was interrupted.'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
