// What the tasks data means for the user, as findings: the thread pool, late timers, types
// that keep growing, fan-out and the slowest callbacks, each with what to do and where in the
// program. One list, read by the terminal's summary and the window alike, so they cannot
// disagree. Pure.

import type { StackFrame } from '../../probe/wire';
import { formatMs as ms, nounFor, userFrames } from '../common/format';
import { estimateCount, estimateMs } from '../common/estimate';
import type { TasksSummary } from './summary';
import { placeName, placesOf, type Place } from './site-places';

export type FindingSeverity = 'problem' | 'warning' | 'info';

export interface Finding {
  /** What it is about: the summary's left column. */
  readonly topic: 'thread pool' | 'timers' | 'growing' | 'fan-out' | 'slowest';
  readonly severity: FindingSeverity;
  /** A headline: "Thread pool saturated". */
  readonly title: string;
  /** What was seen, with its figures, in one line. */
  readonly text: string;
  /** What to do about it; null when nothing needs doing. */
  readonly action: string | null;
  /** Where in the program (a creation site), innermost first; empty when not known. */
  readonly frames: readonly StackFrame[];
  /** trace mode: the types of the resources that led to it, root first. */
  readonly chain: readonly string[];
}

/**
 * A pool is saturated when work queued behind busy threads and waited long enough to matter:
 * as long as a blocked loop is by default. More requests than threads at some instant alone is
 * not it: eight quick fs calls on four threads wait a millisecond or two (a flag set at a wait
 * p99 of 1.6 ms cried wolf). The wait is from request to callback, so a loop that is late to
 * run the callback adds to it: a few milliseconds of that must not raise the flag either.
 */
export const POOL_WAIT_MS = 50;
/** Timers firing later than this at p99 mean something holds the loop... */
export const LATE_TIMER_MS = 20;
/** ...once enough have fired for a p99 not to be one late timer (the blocked loop says that). */
const LATE_TIMERS_MIN = 50;
/** A callback this long is a block in its own right. */
export const SLOW_CALLBACK_MS = 50;
/** Resources one callback creates, past which it is worth a look. */
export const FAN_OUT_MANY = 1000;
/** Slowest callbacks listed, each from its own creation site; past the first, only from this long. */
export const SLOWEST_LISTED = 3;
const SLOWEST_WORTH_MS = 1;
/** Creation stacks are taken for a sample of resources (probe/creation-sites.ts), and none for those made before the hook. */
const NO_CREATION_STACK = 'where it was made is not known: creation stacks are taken for a sample of resources';

export function poolSaturated(maxQueued: number, waitP99Ms: number): boolean {
  return maxQueued > 0 && waitP99Ms >= POOL_WAIT_MS;
}

const finding = (f: Omit<Finding, 'frames' | 'chain'> & Partial<Pick<Finding, 'frames' | 'chain'>>): Finding => ({ frames: [], chain: [], ...f });

function poolFinding(pool: TasksSummary['threadpool']): Finding {
  // With nothing called back there is no wait to estimate: "≈0.00 ms" would be a figure made of none.
  const wait = pool.completed > 0 ? `wait p99 ${estimateMs(pool.queueMsP99)}` : 'none called back';
  const seen = `${pool.size} ${nounFor(pool.size, 'thread')}, up to ${pool.maxInFlight} ${nounFor(pool.maxInFlight, 'request')} at once, ${wait}`;
  if (pool.saturated) {
    return finding({
      topic: 'thread pool', severity: 'problem', title: 'Thread pool saturated',
      text: `${seen}: SATURATED, ${pool.maxQueued} queued at most`,
      action: 'raise UV_THREADPOOL_SIZE (before the program starts), or do less pool work at once (fs, dns.lookup, crypto, zlib)',
    });
  }
  return finding({ topic: 'thread pool', severity: 'info', title: 'Thread pool keeps up', text: seen, action: null });
}

function timersFinding(t: TasksSummary['timers']): Finding {
  const text = `${t.fired} fired, late p50 ${estimateMs(t.lateMsP50)}, p99 ${estimateMs(t.lateMsP99)}, max ${ms(t.lateMsMax)}`;
  return t.lateMsP99 >= LATE_TIMER_MS && t.fired >= LATE_TIMERS_MIN
    ? finding({ topic: 'timers', severity: 'warning', title: 'Timers fire late', text, action: 'something holds the loop when they are due: look at the blocked loops and the slowest callbacks' })
    : finding({ topic: 'timers', severity: 'info', title: 'Timers on time', text, action: null });
}

/**
 * Why a callback's type is not known: the probe knows a resource's type from its creation, so a
 * callback of one made before tasks mode came on (on attach: the connections already open, and
 * an interval's timer, which Node re-arms without making it anew), or past the resources it has
 * room for, has none. The JSON summary says this
 * beside a null type, the text in the finding.
 */
export const UNKNOWN_TYPE_REASON = 'its resource was made before tasks mode came on, or was not tracked';

/** Whose callback; `type` null: not known. */
const callbackOf = (type: string | null): string => (type === null ? `callback of unknown type (${UNKNOWN_TYPE_REASON})` : `${type} callback`);

const frameKey = (f: StackFrame | undefined): string => (f ? `${f.url}:${f.lineNumber}:${f.columnNumber}` : '');

/** Places named in a growing type's finding; the rest are counted. */
const PLACES_NAMED = 3;

/** Where the sampled live resources were made, when at more than one place. */
function placesText(places: readonly Place[]): string {
  if (places.length < 2) return '';
  const total = places.reduce((n, p) => n + p.sampledAlive, 0);
  const named = places.slice(0, PLACES_NAMED).map((p) => `${p.sampledAlive} at ${placeName(p.stack)}`);
  const rest = places.length - PLACES_NAMED;
  return `; of the ${total} sampled still alive, made ${named.join(', ')}${rest > 0 ? `, and at ${rest} more ${nounFor(rest, 'place')}` : ''}`;
}

export function taskFindings(t: TasksSummary): Finding[] {
  const out: Finding[] = [poolFinding(t.threadpool)];
  if (t.timers.fired > 0) out.push(timersFinding(t.timers));
  for (const g of t.growing) {
    const places = placesOf(g.sites);
    out.push(finding({
      topic: 'growing', severity: 'warning', title: 'Resources keep growing',
      text: `${g.type}: ${g.aliveAtStart} → ${g.aliveAtEnd} alive (a leak?)${placesText(places)}`,
      action: places.length > 1
        ? 'look for ones never closed, cleared or awaited (the stack shown is the first place\'s)'
        : places.length > 0 ? 'these were made here and are still alive: look for ones never closed, cleared or awaited' : 'no creation site was sampled yet: let it run longer',
      frames: userFrames(places[0]?.stack ?? []),
    }));
  }
  if (t.fanOut.max > 0) {
    const many = t.fanOut.max >= FAN_OUT_MANY;
    out.push(finding({
      topic: 'fan-out', severity: many ? 'warning' : 'info', title: many ? 'Large fan-out' : 'Fan-out',
      text: `one ${callbackOf(t.fanOut.maxType)} created ${t.fanOut.max} ${nounFor(t.fanOut.max, 'resource')} (p99 ${estimateCount(t.fanOut.p99)})`,
      action: many ? 'a callback that starts this much at once floods the pool and the loop: batch the work or bound how much runs at once' : null,
    }));
  }
  // The slowest from distinct creation sites: ten from one site say no more than one.
  const sites = new Set<string>();
  for (const c of t.slowCallbacks) {
    if (sites.size >= SLOWEST_LISTED || (sites.size > 0 && c.durationMs < SLOWEST_WORTH_MS)) break;
    const site = `${c.type}@${frameKey(userFrames(c.initStack)[0])}`;
    if (sites.has(site)) continue;
    sites.add(site);
    const slow = c.durationMs >= SLOW_CALLBACK_MS;
    // Listed one under another, a callback with no "created at" would read as sharing the next one's.
    const where = c.initStack.length > 0 ? '' : ` (${NO_CREATION_STACK})`;
    out.push(finding({
      topic: 'slowest', severity: slow ? 'warning' : 'info', title: 'Slow callback',
      text: `${callbackOf(c.type)}, ${ms(c.durationMs)}${where}`,
      action: slow ? 'it held the loop that long: move the work off the loop, split it, or make it cheaper' : null,
      frames: userFrames(c.initStack),
      chain: c.chain?.map((r) => r.type) ?? [],
    }));
  }
  return out;
}
