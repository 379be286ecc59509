// Which loop is the launched program's own. Following (`run`, the window's Launch), every Node
// process the command starts says hello with the session's token, and a child the program
// starts at once can say it first on a loaded machine: a CI run saw the child taken for the
// program, and the program's worker threads listed under it. The launched process's main
// thread is the session's first loop; hellos of other processes wait for it, a short while.
//
// When the launched process is not Node (a shell, a wrapper script), no hello of its own will
// come: the first main thread below it is the program, as before.

import { readlinkSync, realpathSync } from 'node:fs';
import type { Hello } from '../../probe/wire';

/** How long loops of other processes wait for the launched process's own hello, ms. */
export const ROOT_WAIT_MS = 3000;

/**
 * Whether the launched process runs the Node that `hello` came from, so that its own hello is
 * on its way. Undefined where /proc cannot say (not Linux, the process gone).
 */
export function runsSameNode(pid: number, hello: Pick<Hello, 'argv'>): boolean | undefined {
  const node = hello.argv[0];
  if (!node) return undefined;
  try {
    return realpathSync(readlinkSync(`/proc/${pid}/exe`)) === realpathSync(node);
  } catch {
    return undefined;
  }
}

interface Loop {
  readonly hello: Pick<Hello, 'pid' | 'threadId' | 'argv'>;
}

/**
 * Holds the loops that come before the launched program's own main thread, and hands them
 * over, the program's first, once it is known: at its hello, or after ROOT_WAIT_MS the first
 * main thread that came (the program's own may never come: its probe failed to start).
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
    private readonly sameNode: (pid: number, hello: Loop['hello']) => boolean | undefined = runsSameNode,
    private readonly waitMs = ROOT_WAIT_MS,
  ) {}

  /** Whether the program's loop is known; later loops need not be offered. */
  get settled(): boolean {
    return this.done;
  }

  /** A loop with the session's token said hello (until settled: then it is the caller's). */
  offer(loop: C): void {
    if (this.isRoot(loop)) return this.finish(loop);
    this.waiting.push(loop);
    this.timer ??= setTimeout(() => {
      const first = this.waiting.find((l) => l.hello.threadId === 0);
      if (first) this.finish(first);
      else this.timer = undefined;
    }, this.waitMs).unref();
  }

  /** The launch failed before the program's loop was known: the loops held are the caller's to close. */
  dispose(): readonly C[] {
    clearTimeout(this.timer);
    this.done = true;
    return this.waiting.splice(0);
  }

  private isRoot({ hello }: C): boolean {
    if (hello.threadId !== 0) return false;
    const pid = this.launchedPid();
    if (pid === undefined || hello.pid === pid) return true;
    return this.sameNode(pid, hello) === false;
  }

  private finish(root: C): void {
    clearTimeout(this.timer);
    this.done = true;
    const earlier = this.waiting.filter((l) => l !== root);
    this.waiting.length = 0;
    this.settle(root, earlier);
  }
}
