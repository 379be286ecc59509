// Who may join a `run` session with its token: the processes the command started, at any
// depth. The token reaches them through the environment, which other processes of the same
// user can read (/proc/<pid>/environ); a hello must also come from a descendant of the
// process loopscope launched, as /proc says, to be admitted.

import { readFileSync } from 'node:fs';
import type { HelloCheck } from '../server/probe-server';
import { parseStatus } from './proc-parse';

/** Steps up the tree at most: deeper than any real launcher chain, and a bound on the work. */
const MAX_DEPTH = 64;

/** True when `pid` is `root` or below it; `parentOf` gives a process's parent, undefined when unknown. */
export function isDescendant(pid: number, root: number, parentOf: (pid: number) => number | undefined): boolean {
  let at: number | undefined = pid;
  for (let i = 0; i <= MAX_DEPTH && at !== undefined && at > 1; i++) {
    if (at === root) return true;
    at = parentOf(at);
  }
  return false;
}

function procParent(pid: number): number | undefined {
  try {
    return parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8')).ppid;
  } catch {
    return undefined;
  }
}

/**
 * Admits the launched process and its descendants. Where there is no /proc (macOS, Windows),
 * the token alone admits (the socket's private directory already keeps other users out).
 */
export function descendantsOf(root: () => number | undefined, parentOf: (pid: number) => number | undefined = procParent): HelloCheck {
  return (hello) => {
    const rootPid = root();
    if (rootPid === undefined) return 'the command has not started';
    if (process.platform !== 'linux') return undefined;
    if (isDescendant(hello.pid, rootPid, parentOf)) return undefined;
    return `process ${hello.pid} is not one the command started (its parent is ${parentOf(hello.pid) ?? 'unknown'})`;
  };
}

/**
 * One process and its worker threads: the first that shows the token, and then only threads
 * of the same process (attach, and run --no-follow, whose command may be a shell that starts
 * Node). Its PID as its hello says it: in a container that is not the PID loopscope sees.
 */
export function oneProcess(): HelloCheck {
  let pid: number | undefined;
  return (hello) => {
    pid ??= hello.pid;
    return hello.pid === pid ? undefined : `process ${hello.pid} is not the session's process ${pid}`;
  };
}
