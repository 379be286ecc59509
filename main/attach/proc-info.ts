// Looking at processes through Linux's /proc: who a process is, whether it is Node (by its
// executable, /proc/<pid>/exe), whether it handles SIGUSR1 (SigCgt in /proc/<pid>/status),
// which files and TCP ports it holds. Synchronous: /proc is in memory and answers at once.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { AttachError } from './errors';
import { isNodeExecutable } from './node-args';
import { isProbeFile } from './probe-marker';
import { WAKE_SOCKET_PATTERN } from '../../probe/wake';
import {
  bootTimeOf, environValue, hasSignal, parseClientEnds, parseNulSeparated, parseProcNetTcp, parseProcNetTcpConnections, parseProcNetUnix, parseStat, parseStatus, socketInode, startedAtMs,
  type ClientEnd, type TcpConnection, type TcpListener,
} from './proc-parse';
import type { ProcessInfo, Sigusr1Disposition } from './process-info';
import { printable } from '../../probe/wire-fields';

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
  const links = isNode ? openFileLinks(pid) : [];
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
    probeFile: links.find(isProbeFile),
    wakeSocket: wakeSocketOf(pid, links),
    ...(isNode ? whereAndSince(pid) : {}),
  };
}

let bootTimeS: number | undefined;

/** Its working directory and start time, where they can be read. */
function whereAndSince(pid: number): Pick<ProcessInfo, 'cwd' | 'startedAtMs'> {
  bootTimeS ??= readOrUndefined(() => bootTimeOf(readFileSync('/proc/stat', 'utf8')));
  const cwd = readOrUndefined(() => readlinkSync(`/proc/${pid}/cwd`));
  const started = readOrUndefined(() => startedAtMs(parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')), bootTimeS));
  return { ...(cwd === undefined ? {} : { cwd }), ...(started === undefined ? {} : { startedAtMs: started }) };
}

/**
 * The dormant probe's socket of `pid` (probe/wake.ts) as this process can reach it: the path
 * the process bound, through /proc/<pid>/root when it sees another filesystem (a container).
 * `links` are its open files: the socket must be one of them, listening.
 */
function wakeSocketOf(pid: number, links: readonly string[]): string | undefined {
  const inodes = new Set(links.map(socketInode).filter((i): i is number => i !== undefined));
  if (inodes.size === 0) return undefined;
  const text = readOrUndefined(() => readFileSync(`/proc/${pid}/net/unix`, 'utf8'));
  const bound = text === undefined ? undefined : parseProcNetUnix(text).find((s) => s.listening && inodes.has(s.inode) && WAKE_SOCKET_PATTERN.test(s.path));
  if (!bound) return undefined;
  const sameRoot = readOrUndefined(() => readlinkSync(`/proc/${pid}/ns/mnt`)) === readOrUndefined(() => readlinkSync('/proc/self/ns/mnt'));
  return sameRoot ? bound.path : `/proc/${pid}/root${bound.path}`;
}

function readTcpTables<T>(pid: number, parse: (text: string, family: 4 | 6) => T[]): T[] {
  const out: T[] = [];
  for (const [file, family] of [['tcp', 4], ['tcp6', 6]] as const) {
    const text = readOrUndefined(() => readFileSync(`/proc/${pid}/net/${file}`, 'utf8'));
    if (text !== undefined) out.push(...parse(text, family));
  }
  return out;
}

/** Listening TCP sockets in the network namespace of `pid` (all processes'). */
export function tcpListenersSeenBy(pid: number): TcpListener[] {
  return readTcpTables(pid, parseProcNetTcp);
}

/** The listening TCP sockets that `pid` itself holds. */
export function tcpListenersOf(pid: number): TcpListener[] {
  const listeners = tcpListenersSeenBy(pid);
  if (listeners.length === 0) return [];
  const inodes = socketInodesOf(pid);
  return listeners.filter((l) => inodes.has(l.inode));
}

/**
 * The connections `pid` holds on its local `port` (a server's accepted ones) but those from
 * the remote ports `except`, each with the process at the other end when this user may see it.
 */
export function tcpConnectionsOn(pid: number, port: number, except: readonly number[]): (TcpConnection & { readonly peerPid: number | undefined })[] {
  const all = readTcpTables(pid, parseProcNetTcpConnections);
  const onPort = all.filter((c) => c.localPort === port && !except.includes(c.remotePort));
  if (onPort.length === 0) return [];
  const inodes = socketInodesOf(pid);
  return onPort.filter((c) => inodes.has(c.inode)).map((c) => {
    const peer = all.find((p) => p.localPort === c.remotePort && p.remotePort === c.localPort && p.localAddress === c.remoteAddress);
    return { ...c, peerPid: peer ? ownerOfSocket(peer.inode) : undefined };
  });
}

/** The client ends of connections to `address`:`port` in the network namespace of `pid`, in any state (parseClientEnds). */
export function clientEndsSeenBy(pid: number, address: string, port: number): ClientEnd[] {
  const ends = new Map<string, ClientEnd>();
  for (const e of readTcpTables(pid, (text, family) => parseClientEnds(text, family, address, port))) ends.set(`${e.address}:${e.port}`, e);
  return [...ends.values()];
}

export interface ThreadLook {
  readonly state: string;
  /** The kernel function it sleeps in (e.g. do_epoll_wait), when it sleeps and the kernel says. */
  readonly wchan: string | undefined;
  /** CPU time so far, ms. */
  readonly cpuMs: number;
}

/** The main thread of `pid` (its thread id is the PID), or undefined if it cannot be read. */
export function mainThreadOf(pid: number): ThreadLook | undefined {
  const dir = `/proc/${pid}/task/${pid}`;
  const stat = readOrUndefined(() => parseStat(readFileSync(`${dir}/stat`, 'utf8')));
  if (!stat) return undefined;
  const wchan = readOrUndefined(() => readFileSync(`${dir}/wchan`, 'utf8').trim());
  return { state: stat.state, wchan: wchan && wchan !== '0' ? wchan : undefined, cpuMs: (stat.userTicks + stat.systemTicks) * 10 };
}

/** The ids of the threads of `pid`; undefined once it is gone. */
export function threadIdsOf(pid: number): number[] | undefined {
  return readOrUndefined(() => readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger));
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
  // Another user's, maybe: its words reach the terminal in an error.
  return argv && argv.length > 0 ? printable(argv.join(' ')) : undefined;
}
