// When attach gives up while the process is busy (its main thread blocked in native code),
// the SIGUSR1 it was sent stays pending: the inspector opens later, when the thread is free,
// and would then stay open. A small detached loopscope process waits for that moment (for a
// bounded time), closes the inspector, and exits, so that attach can return at once.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { connectHost } from './inspector-address';
import { closeAndConfirm } from './inspector-close';
import { CLOSE_TIMEOUT_MS, inspectorAt, listensOn, sleep } from './inspector-ops';
import { hasExited } from '../system/process-exited';
import { processSource, type ProcessSource } from './process-source';

export const LATE_CLOSE_COMMAND = '_close-inspector';
/** How long the closer waits for a late inspector. */
export const LATE_CLOSE_WAIT_MS = 120_000;
/**
 * Where the process's threads show (Linux), they are listed every PORT_POLL_MS, and its sockets
 * read only once a new thread came (ThreadWatch). Elsewhere a known port is knocked on every
 * PORT_POLL_MS (refused, it costs next to nothing), and an unknown one found by reading the
 * process's listening sockets, which takes the kernel milliseconds, every SCAN_POLL_MS.
 */
const PORT_POLL_MS = 250;
const SCAN_POLL_MS = 1000;
/** After a thread comes, the socket tables are read this long (the port is bound just after). */
const NEW_THREAD_LOOK_MS = 3000;
/** After a close, the loop is given this long to turn (and use up a pending wake-up). */
const SETTLE_MS = 1000;

export interface LateClose {
  readonly pid: number;
  readonly host: string;
  /** 0: the port is not known beforehand; any new port of the process is a candidate. */
  readonly port: number;
  /** Ports the process listened on before the signal (never the inspector's). */
  readonly knownPorts: readonly number[];
  /** Give up at this time (ms since the epoch). */
  readonly untilMs: number;
}

export function lateCloseArgs(r: LateClose): string[] {
  return [LATE_CLOSE_COMMAND, String(r.pid), r.host, String(r.port), r.knownPorts.join(','), String(r.untilMs)];
}

export function parseLateCloseArgs(argv: readonly string[]): LateClose | undefined {
  const [pid, host, port, known, until] = argv;
  const numbers = [pid, port, until].map(Number);
  if (host === undefined || known === undefined || numbers.some((n) => !Number.isSafeInteger(n) || n < 0)) return undefined;
  return { pid: numbers[0]!, host, port: numbers[1]!, knownPorts: known ? known.split(',').map(Number) : [], untilMs: numbers[2]! };
}

export type LateCloseOutcome = 'closed' | 'exited' | 'gave-up';

/** Whether something accepts connections on host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * An inspector among the ports the process newly listens on (port 0: its port is not known
 * beforehand); the other new ports join `known`.
 */
async function newInspectorPort(source: ProcessSource, pid: number, known: Set<number>): Promise<number | undefined> {
  for (const l of (await source.listenersOf(pid)).filter((n) => !known.has(n.port))) {
    if (await inspectorAt(l)) return l.port;
    known.add(l.port);
  }
  return undefined;
}

/**
 * Where the process's threads show (Linux), whether to look for its inspector now: at the first
 * look, for a while after a thread came (Node starts the inspector's I/O thread as it opens it,
 * and binds its port just after), and after a close that did not take. Elsewhere, at every look.
 */
class ThreadWatch {
  private seen: ReadonlySet<number> | undefined;
  private lookUntilMs = Infinity;

  constructor(private readonly source: ProcessSource, private readonly pid: number) {}

  async shouldLook(): Promise<boolean> {
    const ids = await this.source.threadIds(this.pid).catch(() => undefined);
    if (!ids) return true;
    if (!this.seen || ids.some((id) => !this.seen!.has(id))) this.lookUntilMs = Date.now() + NEW_THREAD_LOOK_MS;
    this.seen = new Set(ids);
    return Date.now() <= this.lookUntilMs;
  }

  lookAgain(): void {
    this.lookUntilMs = Date.now() + NEW_THREAD_LOOK_MS;
  }

  get threadsShown(): boolean {
    return this.seen !== undefined;
  }
}

/**
 * Whether the inspector listens on its known port: from the socket tables where threads show
 * when to read them, else by knocking (a refused connection costs next to nothing; an accepted
 * one, to another process's inspector on that port, would be reported by that process's attach
 * as a client that came and went).
 */
async function listensNow(source: ProcessSource, watch: ThreadWatch, host: string, r: LateClose): Promise<boolean> {
  if (watch.threadsShown) return listensOn(source, r.pid, r.port);
  return (await accepts(host, r.port)) && (await listensOn(source, r.pid, r.port));
}

/** Waits for the inspector of `r.pid` to open (or to stay open), then closes it. */
export async function closeWhenOpen(r: LateClose, source: ProcessSource = processSource()): Promise<LateCloseOutcome> {
  const known = new Set(r.knownPorts);
  const host = connectHost(r.host);
  const watch = new ThreadWatch(source, r.pid);
  while (Date.now() < r.untilMs) {
    if (hasExited(r.pid)) return 'exited';
    const look = await watch.shouldLook();
    const port = !look
      ? undefined
      : r.port === 0 ? await newInspectorPort(source, r.pid, known) : (await listensNow(source, watch, host, r)) ? r.port : undefined;
    if (port !== undefined) {
      const result = await closeAndConfirm({
        source, pid: r.pid, host, address: r.host, port, askedFrom: undefined, timeoutMs: CLOSE_TIMEOUT_MS, endsBefore: undefined,
        loopTurned: () => sleep(SETTLE_MS).then(() => true),
      });
      if (result.state === 'closed') return 'closed';
      if (result.state === 'exited') return 'exited';
      // Still open (another client holds it, or the loop is stuck), or frozen in the close:
      // look again on the next round.
      watch.lookAgain();
    }
    await sleep(r.port === 0 && !watch.threadsShown ? SCAN_POLL_MS : PORT_POLL_MS);
  }
  return 'gave-up';
}

function cliEntry(): string | undefined {
  // Beside the bundled CLI (dist/), or from the sources as the tests run them.
  const candidates = [join(__dirname, '..', 'bin', 'loopscope.js'), resolve(__dirname, '../../bin/loopscope.js')];
  return candidates.find((c) => existsSync(c));
}

/** Starts the detached closer; false if it could not be started. */
export function spawnLateCloser(r: LateClose): boolean {
  const entry = cliEntry();
  if (!entry) return false;
  try {
    const child = spawn(process.execPath, [entry, ...lateCloseArgs(r)], { detached: true, stdio: 'ignore', windowsHide: true });
    child.on('error', () => undefined);
    child.unref();
    return child.pid !== undefined;
  } catch {
    return false;
  }
}

/** The hidden command the closer runs as. */
export async function lateCloseCommand(argv: readonly string[]): Promise<number> {
  const request = parseLateCloseArgs(argv);
  if (!request) return 2;
  return (await closeWhenOpen(request)) === 'gave-up' ? 1 : 0;
}
