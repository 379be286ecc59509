// Creation sites by place in the program: the probe groups sites by their whole stack text,
// so one line of code can be several sites (a `Promise.all` of three calls is one per column,
// one more per caller). A place is the line of a site's innermost frame of the program's own.
// Pure.

import type { CreationSite, StackFrame } from '../../probe/wire';
import { userFrames } from '../common/format';

export interface Place {
  /** The stack of the place's site with the most resources alive. */
  readonly stack: readonly StackFrame[];
  /** Live resources made here, among those whose creation was sampled. */
  readonly sampledAlive: number;
}

const placeKey = (stack: readonly StackFrame[]): string => {
  const f = userFrames(stack)[0];
  return f ? `${f.url}:${f.lineNumber}` : '';
};

/** The places of `sites`, the most resources alive first. */
export function placesOf(sites: readonly CreationSite[]): Place[] {
  const places = new Map<string, { stack: readonly StackFrame[]; top: number; sampledAlive: number }>();
  for (const s of sites) {
    const key = placeKey(s.stack);
    const p = places.get(key);
    if (!p) places.set(key, { stack: s.stack, top: s.sampledAlive, sampledAlive: s.sampledAlive });
    else {
      p.sampledAlive += s.sampledAlive;
      if (s.sampledAlive > p.top) [p.stack, p.top] = [s.stack, s.sampledAlive];
    }
  }
  return [...places.values()].sort((a, b) => b.sampledAlive - a.sampledAlive).map(({ stack, sampledAlive }) => ({ stack, sampledAlive }));
}

/** "fetchShard (app.js:10)": a place as a finding names it, by its file's name. */
export function placeName(stack: readonly StackFrame[]): string {
  const f = userFrames(stack)[0];
  if (!f) return 'a place with no stack';
  const file = f.url.split(/[\\/]/).pop() || f.url;
  return `${f.functionName || '(anonymous)'} (${file}:${f.lineNumber})`;
}
