// One way to look at processes and their TCP listeners per platform: /proc on Linux (full
// support), ps and lsof on macOS, PowerShell and netstat on Windows (best effort: Windows has
// no signals, so there is no handler to check, and no probe marker is looked for).

import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wakeDirName, wakeSocketName } from '../../probe/wake';
import { printable } from '../../probe/wire-fields';
import { AttachError } from './errors';
import { isNodeExecutable, type NodeVersion } from './node-args';
import { readNodeVersion } from './node-version';
import {
  clientEndsSeenBy, commandLineOf, listPids, mainThreadOf, threadIdsOf, ownerOfSocket, readProcess, sigusr1Of, socketInodesOf, tcpConnectionsOn, tcpListenersOf, tcpListenersSeenBy, type ThreadLook,
} from './proc-info';
import type { ClientEnd } from './proc-parse';
import type { ProcessInfo, Sigusr1Disposition } from './process-info';
import {
  parseLsofListeners, parseNetstatListeners, parsePsSignals, parsePsTextColumn, parseWindowsProcesses, splitWindowsCommandLine,
  type ToolListener,
} from './tool-output-parse';

export interface Listener {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** The process listening, when this user may see it. */
  readonly pid: number | undefined;
}

/** A client connected to a process's server socket. */
export interface Peer {
  readonly address: string;
  readonly port: number;
  /** The client's process, when this user may see it. */
  readonly pid: number | undefined;
}

export interface ProcessSource {
  /** Every process the system shows this user. */
  list(): Promise<ProcessInfo[]>;
  /** One process; throws AttachError('no-such-process'). */
  get(pid: number): Promise<ProcessInfo>;
  nodeVersion(info: ProcessInfo): Promise<NodeVersion | undefined>;
  /** The TCP listeners on `port` that `viewerPid` can reach (its network namespace). */
  listenersOnPort(port: number, viewerPid: number): Promise<Listener[]>;
  /** The TCP ports `pid` itself listens on. */
  listenersOf(pid: number): Promise<Listener[]>;
  /**
   * The clients connected to the server socket `pid` listens with on `port`, but those from
   * the ports `except` (our own); undefined where the platform does not show it.
   */
  clientsOf(pid: number, port: number, except: readonly number[]): Promise<Peer[] | undefined>;
  /**
   * The client ends of connections to `address`:`port` seen from `pid`'s network namespace, in
   * any state, also those gone in the last minute (TIME_WAIT); undefined where the platform does
   * not show them.
   */
  clientEndsOf(pid: number, address: string, port: number): Promise<ClientEnd[] | undefined>;
  /** A command line to name a process in messages. */
  describe(pid: number): Promise<string | undefined>;
  /** Its main thread as the kernel shows it; undefined where the platform does not. */
  mainThread(pid: number): Promise<ThreadLook | undefined>;
  /** The ids of its threads; undefined where the platform does not show them. */
  threadIds(pid: number): Promise<readonly number[] | undefined>;
}

const run = (file: string, args: readonly string[]): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: 10_000, windowsHide: true }, (err, stdout) => (err ? reject(err) : resolve(String(stdout))));
  });

const noSuchProcess = (pid: number): AttachError =>
  new AttachError('no-such-process', `no process has PID ${pid}; \`loopscope ps\` lists the Node processes you can attach.`);

const linux: ProcessSource = {
  async list() {
    const out: ProcessInfo[] = [];
    for (const pid of listPids()) {
      try {
        out.push(readProcess(pid));
      } catch {
        // It exited while we looked.
      }
    }
    return out;
  },
  async get(pid) {
    return readProcess(pid);
  },
  nodeVersion(info) {
    let key = info.exe ?? `/proc/${info.pid}/exe`;
    try {
      const s = statSync(`/proc/${info.pid}/exe`);
      key = `${s.dev}:${s.ino}`;
    } catch {
      return Promise.resolve(undefined);
    }
    return readNodeVersion(`/proc/${info.pid}/exe`, key);
  },
  async listenersOnPort(port, viewerPid) {
    const onPort = tcpListenersSeenBy(viewerPid).filter((l) => l.port === port);
    if (onPort.length === 0) return [];
    const viewerInodes = socketInodesOf(viewerPid);
    return onPort.map((l) => ({ ...l, pid: viewerInodes.has(l.inode) ? viewerPid : ownerOfSocket(l.inode) }));
  },
  async listenersOf(pid) {
    return tcpListenersOf(pid).map((l) => ({ ...l, pid }));
  },
  async clientsOf(pid, port, except) {
    return tcpConnectionsOn(pid, port, except).map((c) => ({ address: c.remoteAddress, port: c.remotePort, pid: c.peerPid }));
  },
  async clientEndsOf(pid, address, port) {
    return clientEndsSeenBy(pid, address, port);
  },
  async describe(pid) {
    return commandLineOf(pid);
  },
  async mainThread(pid) {
    return mainThreadOf(pid);
  },
  async threadIds(pid) {
    return threadIdsOf(pid);
  },
};

/**
 * Where no socket table says which process holds which socket (macOS), a dormant probe is
 * found where it would be (probe/wake.ts), in this user's temporary directory.
 */
function agreedWakeSocket(pid: number, uid: number): string | undefined {
  const path = join(tmpdir(), wakeDirName(uid), wakeSocketName(pid));
  try {
    return statSync(path).isSocket() ? path : undefined;
  } catch {
    return undefined;
  }
}

function dispositionOf(caught: bigint | undefined, ignored: bigint | undefined): Sigusr1Disposition {
  return caught === undefined || ignored === undefined ? 'unknown' : sigusr1Of(caught, ignored);
}

const toListener = (l: ToolListener): Listener => ({ address: l.address, port: l.port, family: l.family, pid: l.pid });

const darwin: ProcessSource = {
  async list() {
    const [signals, comms, args] = await Promise.all([
      run('ps', ['-axo', 'pid=,ppid=,uid=,state=,caught=,ignored=']),
      run('ps', ['-axww', '-o', 'pid=,comm=']),
      run('ps', ['-axww', '-o', 'pid=,args=']),
    ]);
    const comm = parsePsTextColumn(comms);
    const argv = parsePsTextColumn(args);
    return parsePsSignals(signals).map((row) => {
      // ps prints the command line as one string; spaces inside arguments cannot be told apart.
      const exe = comm.get(row.pid);
      return {
        pid: row.pid,
        ppid: row.ppid,
        uid: row.uid,
        state: row.state,
        argv: (argv.get(row.pid) ?? '').split(' ').filter(Boolean),
        exe,
        isNode: exe === undefined ? undefined : isNodeExecutable(exe),
        sigusr1: dispositionOf(row.caught, row.ignored),
        nodeOptions: undefined,
        probeFile: undefined,
        wakeSocket: row.uid === undefined ? undefined : agreedWakeSocket(row.pid, row.uid),
      };
    });
  },
  get(pid) {
    return findInList(this, pid);
  },
  nodeVersion: versionOfExecutable,
  async listenersOnPort(port) {
    const out = await run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-F', 'pn']).catch(() => '');
    return parseLsofListeners(out).map(toListener);
  },
  async listenersOf(pid) {
    const out = await run('lsof', ['-nP', '-a', '-p', String(pid), '-iTCP', '-sTCP:LISTEN', '-F', 'pn']).catch(() => '');
    return parseLsofListeners(out).map(toListener);
  },
  async clientsOf() {
    return undefined;
  },
  async clientEndsOf() {
    return undefined;
  },
  async threadIds() {
    return undefined;
  },
  async describe(pid) {
    const out = await run('ps', ['-ww', '-o', 'args=', '-p', String(pid)]).catch(() => '');
    return out.trim() || undefined;
  },
  async mainThread() {
    return undefined;
  },
};

/** Where a process can only be found by listing them all (macOS, Windows). */
async function findInList(source: ProcessSource, pid: number): Promise<ProcessInfo> {
  const found = (await source.list()).find((p) => p.pid === pid);
  if (!found) throw noSuchProcess(pid);
  return found;
}

function versionOfExecutable(info: ProcessInfo): Promise<NodeVersion | undefined> {
  return info.exe ? readNodeVersion(info.exe, info.exe) : Promise.resolve(undefined);
}

async function netstatListeners(): Promise<Listener[]> {
  const [v4, v6] = await Promise.all([run('netstat', ['-ano', '-p', 'TCP']).catch(() => ''), run('netstat', ['-ano', '-p', 'TCPv6']).catch(() => '')]);
  return [...parseNetstatListeners(v4), ...parseNetstatListeners(v6)].map(toListener);
}

const WINDOWS_QUERY = 'Get-CimInstance Win32_Process | Select-Object ProcessId,ParentProcessId,ExecutablePath,CommandLine | ConvertTo-Json -Compress';

const win32: ProcessSource = {
  async list() {
    const rows = parseWindowsProcesses(await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', WINDOWS_QUERY]));
    return rows.map((row) => ({
      pid: row.pid,
      ppid: row.ppid,
      uid: undefined,
      state: undefined,
      argv: row.commandLine ? splitWindowsCommandLine(row.commandLine) : [],
      exe: row.exe,
      isNode: row.exe === undefined ? undefined : isNodeExecutable(row.exe),
      // process._debugProcess on Windows does not use a signal: nothing can be killed by it.
      sigusr1: 'not-applicable' as const,
      nodeOptions: undefined,
      probeFile: undefined,
      // The dormant probe does not listen on Windows.
      wakeSocket: undefined,
    }));
  },
  get(pid) {
    return findInList(this, pid);
  },
  nodeVersion: versionOfExecutable,
  async listenersOnPort(port) {
    return (await netstatListeners()).filter((l) => l.port === port);
  },
  async listenersOf(pid) {
    return (await netstatListeners()).filter((l) => l.pid === pid);
  },
  async clientsOf() {
    return undefined;
  },
  async clientEndsOf() {
    return undefined;
  },
  async threadIds() {
    return undefined;
  },
  async describe(pid) {
    const argv = (await this.list()).find((p) => p.pid === pid)?.argv;
    return argv && printable(argv.join(' '));
  },
  async mainThread() {
    return undefined;
  },
};

export function processSource(platform: NodeJS.Platform = process.platform): ProcessSource {
  if (platform === 'linux') return linux;
  if (platform === 'darwin') return darwin;
  if (platform === 'win32') return win32;
  throw new AttachError('not-attachable', `loopscope cannot look at processes on ${platform} yet (Linux, macOS and Windows are supported).`);
}
