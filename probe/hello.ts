// Who the target is, for the probe's first message: its pid, Node, command line, working
// folder, the settings the probe started with, and whether stacks can be taken at all.

import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { clipName, MAX_HELLO_BYTES, PROTOCOL_VERSION, type Hello, type ProbeConfig } from './wire';

export interface HelloOptions {
  readonly token: string;
  readonly config: ProbeConfig;
  readonly loadedBy: Hello['loadedBy'];
  readonly probeVersion: string;
  /** A worker thread's `name` option or script. */
  readonly threadName?: string;
}

/** Why the watchdog cannot take stacks, when it cannot. */
export function stackUnavailableReason(): string | undefined {
  try {
    require('node:inspector');
    return undefined;
  } catch {
    return 'this Node was built without the inspector';
  }
}

export function makeHello(options: HelloOptions): Hello {
  const stackUnavailable = stackUnavailableReason();
  return {
    protocol: PROTOCOL_VERSION,
    token: options.token,
    probeVersion: options.probeVersion,
    pid: process.pid,
    ppid: process.ppid,
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    argv: fitArgs(process.argv, ARGV_BUDGET),
    execArgv: fitArgs(process.execArgv, ARGV_BUDGET / 4),
    title: clipName(process.title),
    cwd: clipName(safeCwd()),
    threadId,
    ...(options.threadName !== undefined ? { threadName: clipName(options.threadName) } : {}),
    timeOriginMs: performance.timeOrigin,
    config: options.config,
    loadedBy: options.loadedBy,
    ...(stackUnavailable ? { stackUnavailable } : {}),
  };
}

/**
 * Characters of argv in the hello: with JSON's escapes (6 bytes for a control character, 3
 * for others outside ASCII) a hello stays under MAX_HELLO_BYTES, which loopscope enforces.
 */
const ARGV_BUDGET = MAX_HELLO_BYTES / 8;

/** Arguments as they are, or as many as fit in `budget` characters, each clipped, and how many were left out. */
function fitArgs(args: readonly string[], budget: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const arg of args) {
    const clipped = clipName(arg);
    used += clipped.length;
    if (used > budget) {
      out.push(`… (${args.length - out.length} more arguments)`);
      break;
    }
    out.push(clipped);
  }
  return out;
}

function safeCwd(): string {
  try {
    return process.cwd();
  } catch {
    return '';
  }
}
