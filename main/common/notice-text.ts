// The probe's notices in words, for the warnings of the summary, the live view and the window:
// which worker thread is missing from the session, why, and what can be done about it. Pure.

import type { Hello, Notice } from '../../probe/wire';

/** "worker thread 3 (cruncher-0)": how the user knows the worker (its name option, else its script). */
export function workerLabel(n: Pick<Notice, 'threadId' | 'name'>): string {
  return `worker thread ${n.threadId}${n.name ? ` (${n.name})` : ''}`;
}

const HOW: Readonly<Record<Notice['cause'], string>> = {
  refused: 'the probe could not start in it',
  threw: 'loading the probe there threw',
  inspector: 'the inspector would not run the probe\'s start in it',
};

/** One line: which worker, and why (the live view, where the summary says the rest). */
export function noticeLine(n: Notice): string {
  return `${workerLabel(n)} could not be followed: ${HOW[n.cause]} (${n.reason})`;
}

export interface NoticeWhere {
  /** The process the worker belongs to. */
  readonly pid?: number;
  /** The probe was attached to a running process (not launched with it). */
  readonly attached: boolean;
}

/** The whole warning: which worker, why, and what the user can do. */
export function noticeText(n: Notice, where: NoticeWhere): string {
  const of = where.pid === undefined ? '' : ` of process ${where.pid}`;
  const head = `${workerLabel(n)}${of} could not be followed: ${HOW[n.cause]} (${n.reason}). Its loop is missing from this session; the probe does not try again`;
  if (n.cause === 'refused') {
    // What the probe's start needs in the worker (probe/main-thread.ts): what else refuses it.
    return `${head}. It needs to add a global property, a SharedArrayBuffer and a thread of its own in the worker: a worker that locks its global object (as SES lockdown does) or takes those away cannot be followed`;
  }
  // Attached, the probe went into workers that were already running, wherever they were.
  return where.attached
    ? `${head}. Launched with \`loopscope run\`, the program has the probe brought into each worker as soon as it is up`
    : head;
}

/** The warnings for the notices of every loop of a session, in the order the loops came. */
export function noticeWarnings(loops: readonly { readonly state: { readonly hello: Pick<Hello, 'pid' | 'loadedBy'> | undefined; readonly notices: readonly Notice[] } }[]): string[] {
  return loops.flatMap(({ state }) => state.notices.map((n) => noticeText(n, { pid: state.hello?.pid, attached: state.hello?.loadedBy === 'inject' })));
}
