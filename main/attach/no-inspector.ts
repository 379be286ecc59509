// When SIGUSR1 did not open a process's inspector in time: what probably happened, judged from
// its main thread as the kernel shows it (Linux), and what to do. Pure.

import type { ThreadLook } from './proc-info';

export interface NoInspector {
  readonly reason: string;
  readonly hint: string;
}

/**
 * `before` and `after` are the main thread at the signal and at the end of the wait, `waitedMs`
 * apart. JavaScript, however busy, lets the inspector in (the signal interrupts it), so: a
 * thread that ran all the time is in native code; one that sleeps in the loop's epoll wait is
 * free, so the signal went elsewhere (the program's own SIGUSR1 listener replaces Node's) or
 * a synchronous child process runs its own loop; one asleep anywhere else is in a blocking call.
 */
export function whyNoInspector(before: ThreadLook | undefined, after: ThreadLook | undefined, waitedMs: number): NoInspector {
  const retry = 'try again, or raise --timeout';
  const unknown = { reason: 'its main thread may be blocked, or the program handles SIGUSR1 itself', hint: retry };
  if (!before || !after || waitedMs <= 0) return unknown;
  const busy = (after.cpuMs - before.cpuMs) / waitedMs;
  if (busy > 0.8 || after.state === 'R') {
    return { reason: 'its main thread was running all along, in native code that does not let the inspector in (a long regular expression, a native addon)', hint: retry };
  }
  if (after.wchan === undefined) return unknown;
  if (after.wchan === 'do_epoll_wait') {
    return {
      reason: 'its main thread is waiting for events, so the program most likely handles SIGUSR1 itself (a process.on(\'SIGUSR1\') listener takes the signal from the inspector), or it waits for a synchronous child process (execSync)',
      hint: 'to attach without the signal, start it with the dormant probe (README: Security), or use loopscope run',
    };
  }
  return { reason: `its main thread is blocked in a system call (${after.wchan}): a synchronous file or network call, Atomics.wait, or a native addon`, hint: retry };
}
