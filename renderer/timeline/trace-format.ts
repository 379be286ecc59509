// How the trace screens write durations and times, and the colour of each resource type
// (the same in the timeline and the causality tree, so the eye can match them).

import type { CausalityResource, TimelineSlice } from '../../main/ui/ui-api';
import { BEFORE_TRACE_TYPE, FORGOTTEN_TYPE } from '../../main/common/trace-terms';

/** 0.012 ms → "12 µs", 3.4567 ms → "3.46 ms", 2500 ms → "2.50 s". */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Seconds on the session clock, to the millisecond. */
export function formatTime(s: number): string {
  return `${s.toFixed(3)} s`;
}

/** The types a Node program makes most, in colours far apart; the rest by a hash of the name. */
const KNOWN: Readonly<Record<string, string>> = {
  Timeout: '#6cb6ff',
  Immediate: '#57ab5a',
  TickObject: '#986ee2',
  PROMISE: '#c69026',
  TCPWRAP: '#e0823d',
  TCPSERVERWRAP: '#e5534b',
  HTTPINCOMINGMESSAGE: '#d4a72c',
  HTTPCLIENTREQUEST: '#b083f0',
  FSREQCALLBACK: '#39c5cf',
  FSREQPROMISE: '#39c5cf',
  GETADDRINFOREQWRAP: '#e275ad',
  SHUTDOWNWRAP: '#8ddb8c',
  WRITEWRAP: '#96d0ff',
  // Callbacks whose resource the trace never saw made.
  [BEFORE_TRACE_TYPE]: '#545d68',
  [FORGOTTEN_TYPE]: '#768390',
  unknown: '#768390',
};
const OTHERS = ['#f69d50', '#7ee787', '#a5d6ff', '#ff9bce', '#dcbdfb', '#eac55f', '#56d4dd', '#ffa198'];

export function typeColor(type: string): string {
  const known = KNOWN[type];
  if (known) return known;
  let hash = 0;
  for (let i = 0; i < type.length; i++) hash = (hash * 31 + type.charCodeAt(i)) >>> 0;
  return OTHERS[hash % OTHERS.length]!;
}

/** One line about a resource: "created 1.200 s · 2 callbacks, 3.10 ms · destroyed 1.500 s". */
export function resourceSummary(r: CausalityResource): string {
  const callbacks = r.callbacks === 0 ? 'no callbacks' : `${r.callbacks} callback${r.callbacks === 1 ? '' : 's'}, ${formatDuration(r.callbackMs)}`;
  const end = r.destroyedS === null ? 'not destroyed yet' : `destroyed ${formatTime(r.destroyedS)}`;
  return `created ${formatTime(r.initS)} · ${callbacks} · ${end}`;
}

/** A callback as people name it: its type and, where the probe could tell, the function it called. */
export function sliceLabel(s: { readonly type: string; readonly name: string | null }): string {
  return s.name ? `${s.type} ${s.name}` : s.type;
}

/** Why the trace does not hold resource `asyncId`, given the first id it traced (async ids only grow). */
export function untracedReason(asyncId: number, tracedFrom: number | null): string {
  return tracedFrom === null || asyncId < tracedFrom
    ? 'created before tracing started, so the trace has no record of what made it'
    : 'forgotten by the trace since (it keeps the latest resources)';
}

/** What started a chain whose first link was created by `triggerId`. */
export function chainStart(triggerId: number, tracedFrom: number | null): string {
  return triggerId <= 1 ? 'started by the program\'s main script' : `started by #${triggerId}, ${untracedReason(triggerId, tracedFrom)}`;
}

export interface LegendEntry {
  readonly type: string;
  readonly count: number;
  readonly ms: number;
}

/** The types among `slices`, the most time first, at most `max`: the timeline's legend. */
export function legendOf(slices: readonly TimelineSlice[], max: number): LegendEntry[] {
  const byType = new Map<string, { count: number; ms: number }>();
  for (const s of slices) {
    const t = byType.get(s.type) ?? { count: 0, ms: 0 };
    t.count++;
    t.ms += s.durationMs;
    byType.set(s.type, t);
  }
  return [...byType].map(([type, t]) => ({ type, ...t })).sort((a, b) => b.ms - a.ms || a.type.localeCompare(b.type)).slice(0, max);
}
