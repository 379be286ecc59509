// What tasks and trace modes do with promises, in words, for every view (summary, live view,
// window): whether they are tracked, how they are left out, and what that costs where it does.
// The figures are BENCHMARKS.md's (the rows on the promise-heavy server and on 2 M awaits). Pure.

import type { PromiseSkipping } from '../../probe/wire';

/** What tracking promises costs promise-heavy code, as measured. */
const TRACKING_COST = 'about half the requests/s of a promise-heavy server, 19–44× the time of a tight await loop';

export function promiseNote(promisesTracked: boolean, skipping: PromiseSkipping | undefined): string {
  if (promisesTracked) return `promises tracked (--promises): this costs ${TRACKING_COST}`;
  switch (skipping) {
    case 'trackPromises':
      return "promises not tracked (Node's trackPromises: false); --promises to include them";
    case 'kNoPromiseHook':
      return "promises not tracked (Node's kNoPromiseHook flag); --promises to include them";
    case 'inspector':
      return "promises not tracked (the probe turned Node's promise hook off, through an inspector session of its own inside the process); --promises to include them";
    case 'none':
      return `promises not tracked, but this Node runs its promise hooks for any async hook: tasks mode costs as much as tracking them, ${TRACKING_COST}`;
    default:
      return 'promises not tracked; --promises to include them';
  }
}

/** Whether the way promises are handled costs promise-heavy code much (a view may then say so more loudly). */
export function promisesCostly(promisesTracked: boolean, skipping: PromiseSkipping | undefined): boolean {
  return promisesTracked || skipping === 'none';
}
