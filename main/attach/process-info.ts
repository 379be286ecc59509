// What loopscope knows about a process from outside it, on any platform, and the pure
// decision whether it can be attached. Sending SIGUSR1 to a process without a handler kills
// it, so this decision comes before any signal.

import { AttachError, type AttachErrorCode } from './errors';
import { inspectorSettings, isLoopbackHost, nodeOptionsOfArgv, splitNodeOptions, type InspectorSettings, type NodeVersion } from './node-args';

/** How the process treats SIGUSR1; `not-applicable` on Windows, which has no signals. */
export type Sigusr1Disposition = 'caught' | 'ignored' | 'default' | 'unknown' | 'not-applicable';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number | undefined;
  /** Effective user id, where the platform has one. */
  readonly uid: number | undefined;
  /** One-letter state (R, S, D, T, Z, ...), when known. */
  readonly state: string | undefined;
  /** The command line as the system shows it (`process.title` may have overwritten it). */
  readonly argv: readonly string[];
  /** The executable file, when it can be read. */
  readonly exe: string | undefined;
  /** Whether the executable is Node; undefined when it cannot be told. */
  readonly isNode: boolean | undefined;
  readonly sigusr1: Sigusr1Disposition;
  /** The NODE_OPTIONS it started with, when its environment can be read. */
  readonly nodeOptions: string | undefined;
  /** A loopscope probe file the process holds open (the probe does while it runs). */
  readonly probeFile: string | undefined;
  /** The socket of a dormant probe preloaded into it (probe/wake.ts), as loopscope reaches it. */
  readonly wakeSocket: string | undefined;
  /** Its working directory, where the platform tells (Linux, for this user's processes). */
  readonly cwd?: string;
  /** When it started, ms since the Unix epoch, where the platform tells. */
  readonly startedAtMs?: number;
}

/** Node 18 is the oldest the probe supports. */
export const MIN_NODE_MAJOR = 18;

/** How loopscope gets in: by waking a dormant probe, or through the inspector SIGUSR1 opens. */
export type AttachVia = 'probe' | 'inspector';

export type Verdict =
  | { readonly attachable: true; readonly via: 'probe' }
  | { readonly attachable: true; readonly via: 'inspector'; readonly settings: InspectorSettings }
  | { readonly attachable: false; readonly code: AttachErrorCode; readonly reason: string; readonly hint: string };

const RUN_INSTEAD = 'to watch a Node program from its start, use `loopscope run -- node app.js`';

export function settingsOf(info: ProcessInfo): InspectorSettings {
  return inspectorSettings(splitNodeOptions(info.nodeOptions ?? ''), nodeOptionsOfArgv(info.argv));
}

/**
 * Whether `info` can be attached by a loopscope running as `myUid`. `version` is the Node
 * version of its executable, when it could be read.
 */
export function decideAttachable(info: ProcessInfo, myUid: number | undefined, version: NodeVersion | undefined): Verdict {
  const no = (code: AttachErrorCode, reason: string, hint: string): Verdict => ({ attachable: false, code, reason, hint });
  if (myUid !== undefined && info.uid !== undefined && info.uid !== myUid) {
    return no('not-permitted', `belongs to another user (uid ${info.uid})`, 'run loopscope as that user: the probe can only connect back to a loopscope of its own user');
  }
  if (info.state === 'Z' || info.state === 'X') return no('target-exited', 'has exited', 'nothing to attach to');
  if (info.isNode === false) {
    return no('not-node', `is not a Node.js process (it runs ${info.exe ?? 'another program'})`, `loopscope attaches to Node.js only; ${RUN_INSTEAD}`);
  }
  if (info.isNode === undefined) {
    return no('not-node', 'cannot be identified as Node.js (its executable cannot be read)', `loopscope attaches to Node.js only; ${RUN_INSTEAD}`);
  }
  if (info.state === 'T' || info.state === 't') {
    return no('not-attachable', 'is stopped (suspended or traced)', `resume it first (kill -CONT ${info.pid}), or stop its debugger`);
  }
  if (version && version.major < MIN_NODE_MAJOR) {
    return no('not-attachable', `runs Node ${version.text}; the probe needs Node ${MIN_NODE_MAJOR} or later`, 'upgrade Node');
  }
  // A dormant probe is woken without a signal or an inspector: none of what follows matters.
  if (info.wakeSocket !== undefined) return { attachable: true, via: 'probe' };
  const settings = settingsOf(info);
  if (settings.sigusr1Disabled) {
    return no('inspector-disabled', 'was started with --disable-sigusr1, so SIGUSR1 cannot open its inspector', `restart it without that flag, or ${RUN_INSTEAD}`);
  }
  if (settings.permissionModel) {
    return no('inspector-disabled', 'runs with the permission model (--permission), which turns the inspector off', RUN_INSTEAD);
  }
  // SIGUSR1 would open it where the network reaches: anyone there could run code in the
  // process while loopscope attaches. One already open is the program's own exposure.
  if (!settings.openAtStart && !isLoopbackHost(settings.host)) {
    return no('not-attachable', `would open its inspector on ${settings.host} (--inspect-port), where other machines can reach it and run code in the process while loopscope attaches`, `restart it with its inspector on 127.0.0.1, or ${RUN_INSTEAD}`);
  }
  if (info.sigusr1 === 'ignored') {
    return no('inspector-disabled', 'ignores SIGUSR1, so its inspector cannot be opened', RUN_INSTEAD);
  }
  if (info.sigusr1 === 'default') {
    return no('inspector-disabled', 'has no SIGUSR1 handler: the signal would kill it (inspector disabled, or a Node without one)', RUN_INSTEAD);
  }
  if (info.sigusr1 === 'unknown') {
    return no('not-attachable', 'does not show whether it handles SIGUSR1, and the signal would kill it if not', RUN_INSTEAD);
  }
  return { attachable: true, via: 'inspector', settings };
}

/** The verdict as an error to throw, when it says no. */
export function verdictError(pid: number, verdict: Verdict): AttachError | undefined {
  if (verdict.attachable) return undefined;
  return new AttachError(verdict.code, `process ${pid} ${verdict.reason}; ${verdict.hint}.`);
}
