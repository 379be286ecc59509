// A session's loops for the window's overview: each loop's figures now and its recent lag,
// grouped by process. Pure.

import type { LoopView, ProcessLoops } from './ui-api';
import type { SessionData } from '../session/session-feed';
import { loopName, wasTerminated } from '../session/loop-identity';
import { commandOf } from '../session/session-state';
import { lagPerSecond, loopNow } from '../session/recent-window';

/** Seconds in a loop's sparkline. */
export const LOOP_SPARK_SECONDS = 30;

const ms = (us: number): number => Math.round(us) / 1000;

/** A loop to show, and what its source knows besides its data. */
export interface LoopInput {
  readonly data: SessionData;
  readonly sessionId: string | null;
  readonly status: LoopView['status'];
  /** When the caller knows it better than the loop's goodbye (a launched process's own exit). */
  readonly exitCode?: number | null;
}

/** One loop's view; undefined before its hello. */
export function loopView({ data, sessionId, status, exitCode }: LoopInput): LoopView | undefined {
  const { hello, totals, goodbye } = data.state;
  if (!hello) return undefined;
  const now = loopNow(data.recent);
  const spark = lagPerSecond(data.recent, LOOP_SPARK_SECONDS);
  const last = data.recent.last();
  return {
    sessionId, pid: hello.pid, ppid: hello.ppid, threadId: hello.threadId, name: loopName(hello), status,
    exitCode: exitCode !== undefined && exitCode !== null ? exitCode : (goodbye?.exitCode ?? null),
    terminated: wasTerminated(goodbye),
    lagP99Ms: ms(now.lagP99Us), lagMaxMs: ms(now.lagMaxUs), utilization: Math.round(now.utilization * 1000) / 1000,
    blockedCount: totals.blockedCount,
    // From the loop's first second on: a loop that just came has a short line, not a flat one.
    recentLagMs: spark.slice(Math.max(0, spark.length - secondsSeen(data))).map(ms),
    // On the wall clock, where the window's sparklines place every loop's seconds on one axis.
    recentLagEndMs: last ? Math.round(hello.timeOriginMs + last.timeUs / 1000) : null,
  };
}

function secondsSeen({ recent }: SessionData): number {
  const first = recent.length > 0 ? recent.at(0) : undefined;
  const last = recent.last();
  return first && last ? Math.floor((last.timeUs - first.timeUs) / 1e6) + 1 : 0;
}

/** The loops by process: processes in the order their first loop came, each main thread first, then workers by thread id. */
export function processLoops(loops: readonly LoopInput[]): ProcessLoops[] {
  const byPid = new Map<number, { pid: number; ppid: number; command: readonly string[]; loops: LoopView[] }>();
  for (const input of loops) {
    const view = loopView(input);
    if (!view) continue;
    let p = byPid.get(view.pid);
    if (!p) {
      p = { pid: view.pid, ppid: view.ppid, command: [], loops: [] };
      byPid.set(view.pid, p);
    }
    const hello = input.data.state.hello!;
    if (hello.threadId === 0) p.command = commandOf(hello);
    p.loops.push(view);
  }
  for (const p of byPid.values()) p.loops.sort((a, b) => a.threadId - b.threadId);
  return [...byPid.values()];
}
