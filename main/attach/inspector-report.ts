// What attach tells the user about the inspector it opened, once it has tried to close it:
// the warnings, and whether the attach counts as failed for it (its own exit code). Pure.

import type { CloseResult, CloseState } from './inspector-close';
import type { AttachErrorCode } from './errors';
import type { Peer } from './process-source';
import { LATE_CLOSE_WAIT_MS } from './late-close';
import { hostForUrl } from './inspector-address';

export type InspectorProblem = Extract<AttachErrorCode, 'inspector-open' | 'foreign-session'>;

export interface InspectorReport {
  readonly warnings: readonly string[];
  /** Set when the inspector part failed: attach exits with this code's number. */
  readonly problem: InspectorProblem | undefined;
}

/** Whether a background loopscope must watch the inspector, and close it once it can. */
export function needsWatch(state: CloseState): boolean {
  return state === 'open' || state === 'unconfirmed';
}

function lateCloser(watching: boolean): string {
  return watching ? `a background loopscope will close it once it can (for up to ${LATE_CLOSE_WAIT_MS / 60_000} min)` : 'no background loopscope could be started to close it later';
}

function who(peers: readonly Peer[]): string {
  return peers.map((p) => (p.pid === undefined ? `a process loopscope cannot see (another user's?) from port ${p.port}` : `process ${p.pid}`)).join(', ');
}

/** `watching`: a background loopscope took over (see needsWatch). */
export function reportClose(pid: number, address: string, r: CloseResult, openMs: number | undefined, watching: boolean): InspectorReport {
  const warnings: string[] = [];
  const window = openMs === undefined ? '' : ` (for ${Math.round(openMs)} ms)`;
  if (r.others.length > 0) {
    warnings.push(`while loopscope had the inspector of process ${pid} open${window}, another client connected to it: ${who(r.others)}. Whoever can reach ${address} can run code in that process while it listens: find out who that was`);
  }
  if (r.cameAndWent.length > 0) {
    const n = r.cameAndWent.length;
    const from = r.cameAndWent.map((e) => `${hostForUrl(e.address)}:${e.port}`).join(', ');
    warnings.push(`while loopscope had the inspector of process ${pid} open${window}, ${n === 1 ? 'a connection that was not this loopscope\'s' : `${n} connections that were not this loopscope's`} came and went (from ${from}; the socket tables no longer say whose). Whoever can reach ${address} can run code in that process while it listens: find out who that was`);
  }
  const foreign = r.others.length > 0 || r.cameAndWent.length > 0;
  switch (r.state) {
    case 'closed':
    case 'exited':
      return { warnings, problem: foreign ? 'foreign-session' : undefined };
    case 'stuck':
      warnings.push(`process ${pid} is frozen: it closed its inspector, but Node waits, with no time limit, for the other client's session to end; ending that client (${who(r.others)}) frees it`);
      return { warnings, problem: 'foreign-session' };
    case 'open': {
      const why = r.others.length > 0
        ? 'loopscope did not close it, since Node would freeze the process until that other client lets go'
        : r.reopened > 0
          ? `it kept opening again after each close (${r.reopened} times)`
          : 'the process did not close it in time (its loop did not turn: is its main thread blocked?)';
      warnings.push(`the inspector of process ${pid} still listens on ${address}: ${why}; ${lateCloser(watching)}`);
      return { warnings, problem: foreign ? 'foreign-session' : 'inspector-open' };
    }
    case 'unconfirmed':
      warnings.push(`the inspector of process ${pid} closed, but loopscope could not see its loop turn twice since (from the probe's samples) to make sure it stays closed; ${lateCloser(watching)}`);
      return { warnings, problem: foreign ? 'foreign-session' : 'inspector-open' };
  }
}
