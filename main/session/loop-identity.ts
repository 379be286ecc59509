// Who a loop is: a session is a set of loops, one per process's main thread and one per
// worker thread, each known by (pid, threadId). Pure.

import type { Hello } from '../../probe/wire';

export interface LoopIdentity {
  readonly pid: number;
  readonly ppid: number;
  /** Node's threadId: 0 for the main thread. */
  readonly threadId: number;
  /** "main", or "worker <threadId>" with the worker's `name` option or script. */
  readonly name: string;
}

export function loopName(hello: Pick<Hello, 'threadId' | 'threadName'>): string {
  if (hello.threadId === 0) return 'main';
  return hello.threadName ? `worker ${hello.threadId} ${hello.threadName}` : `worker ${hello.threadId}`;
}

export function loopIdentity(hello: Hello): LoopIdentity {
  return { pid: hello.pid, ppid: hello.ppid, threadId: hello.threadId, name: loopName(hello) };
}

/**
 * Why a worker thread's loop ended when its probe closed without the goodbye its thread's exit
 * sends: the thread was stopped from outside (worker.terminate(), or its process ending), which
 * runs no exit handler. Its exit code is then unknown (its parent's 'exit' event says 1).
 */
export const TERMINATED_REASON = 'terminated: its thread was stopped from outside (worker.terminate(), or its process ending)';

export function wasTerminated(goodbye: { readonly reason: string } | undefined): boolean {
  return goodbye?.reason === TERMINATED_REASON;
}

/** The same loop: a probe that connects again (production mode attaches again) is not a new one. */
export function sameLoop(a: Pick<Hello, 'pid' | 'threadId'>, b: Pick<Hello, 'pid' | 'threadId'>): boolean {
  return a.pid === b.pid && a.threadId === b.threadId;
}
