// Which loop is the launched program's own. Following (`run`, the window's Launch), every Node
// process the command starts says hello with the session's token, and a child the program
// starts at once can say it first on a loaded machine: a CI run saw the child taken for the
// program, and the program's worker threads listed under it. The launched process's main
// thread is the session's first loop; hellos of other processes wait for it, a short while.
//
// When the launched process is not Node (a shell, a wrapper script), no hello of its own will
// come: the first main thread below it is the program, as before. When it ends without one
// (its probe never started), what came from below it is the session.

import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import type { Hello } from '../../probe/wire';

/** How long loops of other processes wait for the launched process's own hello, ms. */
export const ROOT_WAIT_MS = 3000;

/**
 * Whether the launched process runs a Node that the probe loads into, so that its own hello is
 * on its way: the same executable as the process that said hello (`probedPid`), or one named
 * node* (another Node version, nvm's). From /proc alone: nothing from the wire names a path.
 * Undefined where /proc cannot say (not Linux, the launched process gone).
 */
export function launchedRunsNode(launchedPid: number, probedPid: number): boolean | undefined {
  let launched: string;
  try {
    launched = readlinkSync(`/proc/${launchedPid}/exe`);
  } catch {
    return undefined;
  }
  if (basename(launched).startsWith('node')) return true;
  try {
    return readlinkSync(`/proc/${probedPid}/exe`) === launched;
  } catch {
    return undefined;
  }
}

interface Loop {
  readonly hello: Pick<Hello, 'pid' | 'threadId'>;
}

/**
 * Holds the loops that come before the launched program's own main thread, and hands them
 * over, the program's first, once it is known: at its hello, or, after ROOT_WAIT_MS or when the
 * launched process ends (settleNow), the first loop held (the program's own may never come:
 * its probe failed to start).
 */
export class LaunchedRoot<C extends Loop> {
  private readonly waiting: C[] = [];
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    /** The launched process's PID, once spawned. */
    private readonly launchedPid: () => number | undefined,
    /** Called once: the program's loop, then those that came before it, in order. */
    private readonly settle: (root: C, earlier: readonly C[]) => void,
    private readonly runsNode: (launchedPid: number, probedPid: number) => boolean | undefined = launchedRunsNode,
    private readonly waitMs = ROOT_WAIT_MS,
  ) {}

  /** Whether the program's loop is known (or the wait disposed of); later loops need not be offered. */
  get settled(): boolean {
    return this.done;
  }

  /** A loop with the session's token said hello (until settled: then it is the caller's). */
  offer(loop: C): void {
    if (this.isRoot(loop)) return this.finish(loop);
    this.waiting.push(loop);
    this.timer ??= setTimeout(() => this.settleNow(), this.waitMs).unref();
  }

  /**
   * Stops waiting for the program's own hello (it timed out, or the launched process ended):
   * the first main thread held is the program, else the first loop held. Nothing held: no-op.
   */
  settleNow(): void {
    if (this.done) return;
    const first = this.waiting.find((l) => l.hello.threadId === 0) ?? this.waiting[0];
    if (first) this.finish(first);
  }

  /** The wait ends without a program (the launch failed, the session ends): the loops held are the caller's to close. */
  dispose(): readonly C[] {
    clearTimeout(this.timer);
    this.done = true;
    return this.waiting.splice(0);
  }

  private isRoot({ hello }: C): boolean {
    if (hello.threadId !== 0) return false;
    const pid = this.launchedPid();
    if (pid === undefined || hello.pid === pid) return true;
    return this.runsNode(pid, hello.pid) === false;
  }

  private finish(root: C): void {
    clearTimeout(this.timer);
    this.done = true;
    const earlier = this.waiting.filter((l) => l !== root);
    this.waiting.length = 0;
    this.settle(root, earlier);
  }
}
