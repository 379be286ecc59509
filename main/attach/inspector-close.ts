// Closing an inspector that loopscope opened, and making sure it stays closed. The target
// closes it itself, two turns of its loop after being asked, and only while no other client
// is connected (inject.ts). From outside, this waits until the process no longer listens (from
// its socket tables: a connection attempt would count as another client), and checks again
// after two more turns of its loop (SIGUSR1's wake-up, or anyone, may have opened it again:
// then it asks again). Other clients seen connected to the inspector are collected, to be
// reported.

import { performance } from 'node:perf_hooks';
import { askToClose, listensOn, sleep, waitClosed } from './inspector-ops';
import { hasExited } from '../system/process-exited';
import type { Peer, ProcessSource } from './process-source';
import type { ClientEnd } from './proc-parse';
import { isOwnPort } from './own-ports';

/** Closes, after which loopscope gives up on an inspector that keeps reopening. */
const MAX_CLOSES = 3;
/** A client still connected this long after the listener went holds the target's close up. */
const LINGER_MS = 300;

export interface CloseJob {
  readonly source: ProcessSource;
  readonly pid: number;
  /** Where loopscope reaches the inspector. */
  readonly host: string;
  /** The address it listens on, as the socket tables show it. */
  readonly address: string;
  readonly port: number;
  /** The local port of the (closed) connection that asked for the close already, if one did (the injection does). */
  readonly askedFrom: number | undefined;
  /** Resolves true once the target's loop has turned twice since `sinceMs` (performance.now() here); false if it could not tell in time. */
  readonly loopTurned: (sinceMs: number) => Promise<boolean>;
  /** How long the target has to close it once asked (its loop must turn twice first). */
  readonly timeoutMs: number;
  /**
   * The client ends of connections to the inspector's address and port the socket tables
   * showed before the signal (closed ones linger a minute), which are no client of this
   * opening; undefined where they could not be read.
   */
  readonly endsBefore: readonly ClientEnd[] | undefined;
}

/**
 * - closed: it no longer listens, and still did not after two turns of the loop;
 * - unconfirmed: it no longer listens, but the loop did not show two turns in time;
 * - open: it still listens (the close was skipped for another client, or the loop is stuck);
 * - stuck: it no longer listens, but the main thread waits in the close for other clients'
 *   sessions to end (Node gives them no time limit): the process is frozen until they do;
 * - exited: the process is gone.
 */
export type CloseState = 'closed' | 'unconfirmed' | 'open' | 'stuck' | 'exited';

export interface CloseResult {
  readonly state: CloseState;
  /** How often it opened again after a close, and was closed again. */
  readonly reopened: number;
  /** Other clients seen connected to the inspector. */
  readonly others: readonly Peer[];
  /**
   * Other clients that connected and were gone before they could be seen connected: the
   * socket tables still show their closed connections (TIME_WAIT). Who made them is not known.
   */
  readonly cameAndWent: readonly ClientEnd[];
  /** performance.now() here when it was last seen to stop listening. */
  readonly closedAtMs: number | undefined;
}

export async function closeAndConfirm(job: CloseJob): Promise<CloseResult> {
  const r = await closeUntilConfirmed(job);
  return { ...r, cameAndWent: await goneClients(job, r.others) };
}

/**
 * The clients of the connections to the inspector the socket tables show now but did not
 * before the signal, neither loopscope's own nor among the clients seen connected.
 */
async function goneClients(job: CloseJob, seen: readonly Peer[]): Promise<ClientEnd[]> {
  if (!job.endsBefore) return [];
  const key = (e: ClientEnd): string => `${e.address}:${e.port}`;
  const before = new Set(job.endsBefore.map(key));
  const now = (await job.source.clientEndsOf(job.pid, job.address, job.port).catch(() => undefined)) ?? [];
  return now.filter((e) => !before.has(key(e)) && !isOwnPort(e.port) && !seen.some((p) => p.port === e.port));
}

async function closeUntilConfirmed(job: CloseJob): Promise<Omit<CloseResult, 'cameAndWent'>> {
  const { source, pid, port } = job;
  /** Local ports of loopscope's own connections to it, which are not others'. */
  const ours: number[] = [];
  const others = new Map<number, Peer>();
  const connectedOthers = async (): Promise<Peer[]> => {
    const now = (await source.clientsOf(pid, port, ours).catch(() => undefined)) ?? [];
    for (const p of now) others.set(p.port, p);
    return now;
  };
  let reopened = 0;
  let closedAtMs: number | undefined;
  const result = (state: CloseState): Omit<CloseResult, 'cameAndWent'> => ({ state, reopened, others: [...others.values()], closedAtMs });

  let askedFrom = job.askedFrom;
  for (;;) {
    askedFrom ??= await askToClose(source, pid, job.host, port).catch(() => undefined);
    if (askedFrom !== undefined) ours.push(askedFrom);
    askedFrom = undefined;
    const gone = await waitClosed(source, pid, port, job.timeoutMs);
    const seenAtMs = performance.now();
    if (hasExited(pid)) return result('exited');
    await connectedOthers();
    if (!gone) return result('open');
    closedAtMs = seenAtMs;
    if ((await connectedOthers()).length > 0) {
      await sleep(LINGER_MS);
      if ((await connectedOthers()).length > 0) return result('stuck');
    }
    const turned = await job.loopTurned(closedAtMs);
    if (hasExited(pid)) return result('exited');
    if (!(await listensOn(source, pid, port))) return result(turned ? 'closed' : 'unconfirmed');
    reopened++;
    if (reopened >= MAX_CLOSES) return result('open');
  }
}
