// Looking at processes through Linux's /proc: who a process is, whether it is Node (by its
// executable, /proc/<pid>/exe), whether it handles SIGUSR1 (SigCgt in /proc/<pid>/status),
// which files and TCP ports it holds. Synchronous: /proc is in memory and answers at once.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { AttachError } from './errors';
import { isNodeExecutable } from './node-args';
import { isProbeFile } from './probe-marker';
import { bootTimeOf, environValue, hasSignal, parseNulSeparated, parseProcNetTcp, parseStatus, socketInode, startedAtMs, type TcpListener } from './proc-parse';
import type { ProcessInfo, Sigusr1Disposition } from './process-info';

const SIGUSR1 = osConstants.signals.SIGUSR1;
const DELETED = ' (deleted)';

const errnoOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** Every PID in /proc. */
export function listPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

function readOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The links of a process's open files; empty when they cannot be read. */
export function openFileLinks(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(dir);
  } catch {
    return [];
  }
  const links: string[] = [];
  for (const fd of fds) {
    const link = readOrUndefined(() => readlinkSync(`${dir}/${fd}`));
    if (link !== undefined) links.push(link);
  }
  return links;
}

export function socketInodesOf(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const link of openFileLinks(pid)) {
    const inode = socketInode(link);
    if (inode !== undefined) inodes.add(inode);
  }
  return inodes;
}

export function sigusr1Of(caught: bigint, ignored: bigint): Sigusr1Disposition {
  if (hasSignal(caught, SIGUSR1)) return 'caught';
  if (hasSignal(ignored, SIGUSR1)) return 'ignored';
  return 'default';
}

/** Reads one process. Throws AttachError('no-such-process') when there is none. */
export function readProcess(pid: number): ProcessInfo {
  let statusText: string;
  try {
    statusText = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ESRCH') {
      throw new AttachError('no-such-process', `no process has PID ${pid}; \`loopscope ps\` lists the Node processes you can attach.`);
    }
    throw err;
  }
  const status = parseStatus(statusText);
  const rawExe = readOrUndefined(() => readlinkSync(`/proc/${pid}/exe`));
  const exe = rawExe?.endsWith(DELETED) ? rawExe.slice(0, -DELETED.length) : rawExe;
  const argv = readOrUndefined(() => parseNulSeparated(readFileSync(`/proc/${pid}/cmdline`))) ?? [];
  const environ = readOrUndefined(() => parseNulSeparated(readFileSync(`/proc/${pid}/environ`)));
  const isNode = exe === undefined ? undefined : isNodeExecutable(exe);
  return {
    pid,
    ppid: status.ppid,
    uid: status.effectiveUid,
    state: status.state,
    argv,
    exe,
    isNode,
    sigusr1: sigusr1Of(status.caught, status.ignored),
    nodeOptions: environ ? environValue(environ, 'NODE_OPTIONS') : undefined,
    // Only Node processes can hold a probe; others are not worth reading through.
    probeFile: isNode ? openFileLinks(pid).find(isProbeFile) : undefined,
    ...(isNode ? whereAndSince(pid) : {}),
  };
}

let bootTimeS: number | undefined;

/** Its working directory and start time, where they can be read. */
function whereAndSince(pid: number): Pick<ProcessInfo, 'cwd' | 'startedAtMs'> {
  bootTimeS ??= readOrUndefined(() => bootTimeOf(readFileSync('/proc/stat', 'utf8')));
  const cwd = readOrUndefined(() => readlinkSync(`/proc/${pid}/cwd`));
  const started = readOrUndefined(() => startedAtMs(readFileSync(`/proc/${pid}/stat`, 'utf8'), bootTimeS));
  return { ...(cwd === undefined ? {} : { cwd }), ...(started === undefined ? {} : { startedAtMs: started }) };
}

/** Listening TCP sockets in the network namespace of `pid` (all processes'). */
export function tcpListenersSeenBy(pid: number): TcpListener[] {
  const out: TcpListener[] = [];
  for (const [file, family] of [['tcp', 4], ['tcp6', 6]] as const) {
    const text = readOrUndefined(() => readFileSync(`/proc/${pid}/net/${file}`, 'utf8'));
    if (text !== undefined) out.push(...parseProcNetTcp(text, family));
  }
  return out;
}

/** The listening TCP sockets that `pid` itself holds. */
export function tcpListenersOf(pid: number): TcpListener[] {
  const listeners = tcpListenersSeenBy(pid);
  if (listeners.length === 0) return [];
  const inodes = socketInodesOf(pid);
  return listeners.filter((l) => inodes.has(l.inode));
}

/** The process holding a socket, among those whose files this user may read. */
export function ownerOfSocket(inode: number): number | undefined {
  for (const pid of listPids()) {
    if (socketInodesOf(pid).has(inode)) return pid;
  }
  return undefined;
}

export function commandLineOf(pid: number): string | undefined {
  const argv = readOrUndefined(() => parseNulSeparated(readFileSync(`/proc/${pid}/cmdline`)));
  return argv && argv.length > 0 ? argv.join(' ') : undefined;
}
