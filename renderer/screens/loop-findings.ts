// The key findings about the session's other loops (its other threads and processes): those
// that blocked or ended badly, most serious first, each opening its loop; a few named, the
// rest counted. So a worker that blocks shows on the main loop's overview, not only in the
// Loops pane. Pure.

import type { FindingSeverity, LoopView, ProcessLoops } from '../../main/ui/ui-api';

/** A key finding about other loops (a KeyFinding, without this file importing key-findings). */
export interface LoopFinding {
  readonly id: string;
  readonly severity: FindingSeverity;
  readonly text: string;
  readonly pane: 'loops';
  /** The loop's session, to open it; none when it cannot be opened on its own. */
  readonly session?: string;
}

/** Loops named one by one; the rest are counted. */
export const LOOPS_NAMED = 2;

/** The loop on screen, which its own findings describe. */
export interface ShownLoop {
  readonly pid: number;
  readonly threadId: number;
}

interface Trouble {
  readonly loop: LoopView;
  readonly severity: FindingSeverity;
  /** "exited with code 3", "was terminated"; null when it did not end badly. */
  readonly ending: string | null;
}

/** The group's loops other than `shown` that blocked or ended badly, as findings. */
export function loopFindings(processes: readonly ProcessLoops[], shown: ShownLoop): LoopFinding[] {
  const troubles = processes.flatMap((p) => {
    const processEnded = processHasEnded(p);
    return p.loops.flatMap((l) => (l.pid === shown.pid && l.threadId === shown.threadId ? [] : troubleOf(l, processEnded)));
  });
  // Stable: loops that rank the same keep the overview's order (by process, then thread).
  troubles.sort((a, b) => rank(a) - rank(b) || b.loop.blockedCount - a.loop.blockedCount || Number(b.ending !== null) - Number(a.ending !== null));
  const out: LoopFinding[] = troubles.slice(0, LOOPS_NAMED).map((t) => ({
    id: `loop-${t.loop.pid}-${t.loop.threadId}`, severity: t.severity, pane: 'loops',
    ...(t.loop.sessionId === null ? {} : { session: t.loop.sessionId }),
    text: troubleText(t, shown.pid),
  }));
  const rest = troubles.slice(LOOPS_NAMED);
  if (rest.length > 0) {
    out.push({
      id: 'loops-more', pane: 'loops', severity: rest.some((t) => t.severity === 'problem') ? 'problem' : 'warning',
      text: `and ${rest.length} more loop${rest.length === 1 ? '' : 's'} that blocked or ended badly`,
    });
  }
  return out;
}

const rank = (t: Trouble): number => (t.severity === 'problem' ? 0 : 1);

/** Its main thread's loop ended: the process is gone, and took its workers with it. */
function processHasEnded(p: ProcessLoops): boolean {
  const main = p.loops.find((l) => l.threadId === 0);
  return main !== undefined && (main.status === 'ended' || main.exitCode !== null);
}

/**
 * What is wrong with a loop, if anything: it blocked, or it ended with an exit code other than
 * 0 (a problem), or its thread was terminated while its process ran on (a warning: maybe meant,
 * maybe not; a process's end terminates its workers, and that is no news).
 */
function troubleOf(l: LoopView, processEnded: boolean): Trouble[] {
  const badExit = l.exitCode !== null && l.exitCode !== 0;
  const cutOff = l.terminated && !processEnded;
  if (l.blockedCount === 0 && !badExit && !cutOff) return [];
  const ending = badExit ? `exited with code ${l.exitCode}` : cutOff ? 'was terminated' : null;
  return [{ loop: l, severity: l.blockedCount > 0 || badExit ? 'problem' : 'warning', ending }];
}

/** "Worker 2 cruncher blocked 22×", "Process 4711 exited with code 3", "Worker 3 of process 4711 blocked 2× and was terminated". */
function troubleText({ loop: l, ending }: Trouble, shownPid: number): string {
  const blocked = l.blockedCount > 0 ? `blocked ${l.blockedCount}×` : null;
  return `${loopSubject(l, shownPid)} ${[blocked, ending].filter((s) => s !== null).join(' and ')}`;
}

/** A loop, named from the shown loop's point of view: the main thread of its own process, another process, a worker. */
function loopSubject(l: LoopView, shownPid: number): string {
  const own = l.pid === shownPid;
  if (l.threadId === 0) return own ? 'The main thread' : `Process ${l.pid}`;
  const worker = l.name.charAt(0).toUpperCase() + l.name.slice(1);
  return own ? worker : `${worker} of process ${l.pid}`;
}
