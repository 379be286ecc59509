// When attach gives up while the process is busy (its main thread blocked in native code),
// the SIGUSR1 it was sent stays pending: the inspector opens later, when the thread is free,
// and would then stay open. A small detached loopscope process waits for that moment (for a
// bounded time), closes the inspector, and exits, so that attach can return at once.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CdpClient } from './inspector-client';
import { addressesConflict, websocketUrl } from './inspector-address';
import { closeInspector, inspectorAt, sleep, waitClosed, CLOSE_TIMEOUT_MS } from './inspector-ops';
import { hasExited } from '../system/process-exited';
import { processSource, type ProcessSource } from './process-source';

export const LATE_CLOSE_COMMAND = '_close-inspector';
/** How long the closer waits for a late inspector. */
export const LATE_CLOSE_WAIT_MS = 120_000;
const LATE_POLL_MS = 100;

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

/** Waits for the inspector of `r.pid` to open, then closes it. */
export async function closeWhenOpen(r: LateClose, source: ProcessSource = processSource()): Promise<LateCloseOutcome> {
  const known = new Set(r.knownPorts);
  while (Date.now() < r.untilMs) {
    if (hasExited(r.pid)) return 'exited';
    const listeners = r.port === 0
      ? (await source.listenersOf(r.pid)).filter((l) => !known.has(l.port))
      : (await source.listenersOnPort(r.port, r.pid)).filter((l) => l.pid === r.pid && addressesConflict(l.address, r.host));
    for (const l of listeners) {
      const found = await inspectorAt(l);
      if (!found) continue;
      try {
        const client = await CdpClient.connect(websocketUrl(found.target.webSocketDebuggerUrl, found.host, found.port), CLOSE_TIMEOUT_MS);
        await closeInspector(client, r.pid);
        client.close();
        if (await waitClosed(source, r.pid, found.port, CLOSE_TIMEOUT_MS)) return 'closed';
      } catch {
        // still busy: try again on the next round
      }
    }
    await sleep(LATE_POLL_MS);
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
