// The live terminal view: a few lines at the bottom of the terminal, redrawn about once a
// second. Rendering is pure (state in, lines out); terminal-screen.ts does the drawing.

import type { MetricsSample } from '../../probe/wire';
import type { SessionData } from '../session/session-feed';
import type { RecentSamples } from '../session/sample-ring';
import type { SessionState } from '../session/session-state';
import { addInterval, emptyLagHistogram, percentileOf } from '../session/lag-histogram';
import { countOf, percentileUs } from '../../probe/log-histogram';
import { poolWaitMaxUs } from '../../probe/task-types';
import { formatBytes, formatClock, formatFrame, formatMs, formatPercent, nounFor, userFrames } from '../common/format';
import { promiseNote, promisesCostly } from '../common/promise-note';
import { estimateMs } from '../common/estimate';
import { groupsWithOngoing, ongoingKeys } from '../session/blocked-groups';
import { hottestLine, rangeStats } from '../session/profile-stats';
import { poolSaturated } from '../reports/task-findings';
import { fit, sparkline } from './text';
import { loopName, wasTerminated } from '../session/loop-identity';
import { lagPerSecond, lastWindow, loopNow } from '../session/recent-window';
import { heldBackNotices, heldBackText, noticeLine, readTooSlowly, unrecordedGcPauses } from '../common/notice-text';

export interface LiveViewContext {
  readonly width: number;
  /** Time since the session started, ms. */
  readonly elapsedMs: number;
  /** What the view says when no probe has connected yet, or when it has gone. */
  readonly status: string | undefined;
  /** Seconds left when running with --duration. */
  readonly remainingMs: number | undefined;
  /** Every loop of the session, when it has several (the view shows `data`, the first, in full). */
  readonly loops?: readonly SessionData[];
}

const SPARK_POINTS = 40;
const LOOPS_SHOWN = 8;
/** Groups of blocks shown, the most blocked time first. */
const GROUPS_SHOWN = 3;
/** The CPU line covers this much of the latest samples. */
const CPU_WINDOW_US = 5_000_000;
const CPU_FUNCTIONS_SHOWN = 3;

/**
 * GC pauses reach loopscope up to a second after they happen (the probe collects them from
 * trace events once a second), each with its own start. So the rate is taken over a span that
 * ended a settling time ago, by start: every pause in it has arrived, and bursts of arrivals
 * do not show as bursts of GC.
 */
const GC_SETTLE_US = 1_200_000;
const GC_SPAN_US = 2_000_000;

function settledGc(recent: RecentSamples): { perSecond: number; msPerSecond: number } {
  const last = recent.last();
  if (!last) return { perSecond: 0, msPerSecond: 0 };
  const to = last.timeUs - GC_SETTLE_US;
  const from = to - GC_SPAN_US;
  let count = 0;
  let us = 0;
  for (let i = recent.length - 1; i >= 0 && recent.at(i).timeUs >= from; i--) {
    for (const g of recent.at(i).gc) {
      if (g.startUs >= from && g.startUs < to) {
        count++;
        us += g.durationUs;
      }
    }
  }
  const seconds = GC_SPAN_US / 1e6;
  return { perSecond: Math.round(count / seconds), msPerSecond: us / 1000 / seconds };
}

/**
 * One line per loop (when there are several): lag p99 and max over the last second,
 * utilization, blocks; the worst first (the highest max lag now, then the most blocks).
 */
export function loopLines(loops: readonly SessionData[]): string[] {
  if (loops.length < 2) return [];
  const rows = loops.flatMap((l) => {
    const { hello, totals, goodbye } = l.state;
    if (!hello) return [];
    const { lagP99Us, lagMaxUs: maxUs, utilization } = loopNow(l.recent);
    const ended = !goodbye ? '' : wasTerminated(goodbye) ? '  terminated' : `  ended${goodbye.exitCode === undefined ? '' : ` (${goodbye.exitCode})`}`;
    const text = `   ${hello.pid} ${loopName(hello)}`.padEnd(34) +
      ` p99 ${formatMs(lagP99Us / 1000)}  max ${formatMs(maxUs / 1000)}  util ${formatPercent(utilization)}  blocks ${totals.blockedCount}${ended}`;
    return [{ text, maxUs, blocks: totals.blockedCount }];
  });
  rows.sort((a, b) => b.maxUs - a.maxUs || b.blocks - a.blocks);
  const more = rows.length - LOOPS_SHOWN;
  return [
    ` loops    ${rows.length}${rows.length > 1 ? ' (worst first)' : ''}`,
    ...rows.slice(0, LOOPS_SHOWN).map((r) => r.text),
    ...(more > 0 ? [`   … ${more} more`] : []),
  ];
}

export function renderLiveView(data: SessionData, ctx: LiveViewContext): string[] {
  const { state, recent } = data;
  const { hello } = state;
  const width = Math.max(40, ctx.width);
  const lines: string[] = [];
  const title = hello
    ? `loopscope · pid ${hello.pid} · node ${hello.nodeVersion} · ${hello.config.mode} · ${formatClock(ctx.elapsedMs)}`
    : `loopscope · ${formatClock(ctx.elapsedMs)}`;
  const left = ctx.remainingMs !== undefined ? ` · ${Math.ceil(ctx.remainingMs / 1000)} s left` : '';
  lines.push(`── ${title}${left} ${'─'.repeat(Math.max(0, width - title.length - left.length - 4))}`);

  if (ctx.status) lines.push(` ${ctx.status}`);
  const window = lastWindow(recent);
  if (window.length === 0) {
    if (!ctx.status) lines.push(' waiting for the first sample…');
    return lines.map((l) => fit(l, width));
  }

  const maxOf = (f: (s: MetricsSample) => number): number => Math.max(...window.map(f));
  const weighted = (f: (s: MetricsSample) => number): number => {
    const time = window.reduce((t, s) => t + s.intervalUs, 0);
    return time > 0 ? window.reduce((t, s) => t + f(s) * s.intervalUs, 0) / time : 0;
  };
  const windowUs = window.reduce((t, s) => t + s.intervalUs, 0);
  const latest = window[window.length - 1]!;
  const gc = settledGc(recent);
  const unrecorded = unrecordedGcPauses(state.drops.frames);

  const lag = window.reduce((h, s) => addInterval(h, s.lag.percentiles, s.lag.count), emptyLagHistogram());
  const lagMaxUs = maxOf((s) => s.lag.maxUs);
  const lagLine = ` lag      p50 ${formatMs(percentileOf(lag, 50, lagMaxUs) / 1000)}  p99 ${formatMs(percentileOf(lag, 99, lagMaxUs) / 1000)}` +
    `  max ${formatMs(lagMaxUs / 1000)}`;
  // As many seconds as the line has room for: cut by the terminal's width, it would lose the latest.
  const points = Math.min(SPARK_POINTS, width - [...lagLine].length - `   ${SPARK_POINTS} s: `.length);
  lines.push(points >= 10 ? `${lagLine}   ${points} s: ${sparkline(lagPerSecond(recent, points))}` : lagLine);
  const cpuUser = windowUs > 0 ? window.reduce((t, s) => t + s.cpuUserUs, 0) / windowUs : 0;
  const cpuSystem = windowUs > 0 ? window.reduce((t, s) => t + s.cpuSystemUs, 0) / windowUs : 0;
  lines.push(` loop     utilization ${formatPercent(weighted((s) => s.utilization))}   cpu user ${formatPercent(cpuUser)} system ${formatPercent(cpuSystem)}`);
  lines.push(` memory   heap ${formatBytes(latest.heapUsedBytes)} of ${formatBytes(latest.heapTotalBytes)}   rss ${formatBytes(latest.rssBytes)}   external ${formatBytes(latest.externalBytes)}`);
  lines.push(
    ` gc       ${gc.perSecond}/s, ${formatMs(gc.msPerSecond)}/s (the last settled ${GC_SPAN_US / 1e6} s)` +
      `   session: ${state.totals.gcCount}, max ${formatMs(state.totals.gcMaxUs / 1000)}` +
      (unrecorded > 0 ? `, ${unrecorded} not recorded (V8's trace lost their begin or end)` : ''),
  );
  const resources = [...latest.resources].sort((a, b) => b.count - a.count).map((r) => `${r.type} ${r.count}`).join(', ');
  lines.push(` handles  ${resources || 'none'}`);

  lines.push(...taskLines(state));

  const dropped = readTooSlowly(state.drops.frames).reduce((a, [, n]) => a + n, 0);
  if (dropped > 0) lines.push(` dropped  ${dropped} frames (${formatBytes(state.drops.bytes)}): loopscope read too slowly`);

  lines.push(...loopLines(ctx.loops ?? []));
  lines.push(...unfollowedLines(ctx.loops ?? [data]));
  const cwd = hello?.cwd ?? '';
  const cpu = cpuLine(data, cwd);
  if (cpu) lines.push(cpu);

  const groups = groupsWithOngoing(state.blockGroups, state.blocked, 'known');
  const now = state.blocked.find((b) => b.state === 'ongoing');
  const blockedNow = now ? ` · blocked now for ${formatMs(now.durationUs / 1000)}` : '';
  lines.push(` blocked  ${state.totals.blockedCount === 0 ? 'none' : `${state.totals.blockedCount} in ${groups.length} place${groups.length === 1 ? '' : 's'} (most blocked time first)`}${blockedNow}`);
  const ongoing = ongoingKeys(state.blockGroups, state.blocked);
  for (const g of groups.slice(0, GROUPS_SHOWN)) {
    const frames = userFrames(g.stack).slice(0, 2).map((f) => formatFrame(f, cwd)).join(' ← ');
    const now = ongoing.has(g.key) ? ' (blocked now)' : '';
    const times = g.count === 1 ? formatMs(g.maxUs / 1000) : `${g.count}× ${formatMs(g.totalUs / 1000)}, max ${formatMs(g.maxUs / 1000)}`;
    lines.push(`   ${times}${now}  ${frames || 'no stack'}`);
  }
  return lines.map((l) => fit(l, width));
}

const UNFOLLOWED_SHOWN = 3;

/** Worker threads the probe could not go into: missing from the loops above (the summary says more). */
function unfollowedLines(loops: readonly SessionData[]): string[] {
  const notices = loops.flatMap(({ state }) => state.notices.map((n) => noticeLine(n, state.hello?.pid)));
  const more = notices.length - UNFOLLOWED_SHOWN;
  const held = loops.reduce((a, l) => a + heldBackNotices(l.state.drops.frames), 0);
  return [
    ...notices.slice(0, UNFOLLOWED_SHOWN).map((line) => ` missing  ${line}`),
    ...(more > 0 ? [`   … ${more} more worker thread${more === 1 ? '' : 's'} not followed`] : []),
    ...(held > 0 ? [`   … ${heldBackText(held)}`] : []),
  ];
}

/** The functions with the most CPU time (self) over the last seconds, as shares of all samples. */
function cpuLine({ state, profile }: SessionData, cwd: string): string | undefined {
  const sampler = state.profiler;
  if (sampler && sampler.state !== 'on') return ` cpu      sampler ${sampler.state}${sampler.reason ? `: ${sampler.reason}` : ''}`;
  const extent = profile.extent;
  if (!extent) return undefined;
  const stats = rangeStats(profile, profile.range(extent.toUs - CPU_WINDOW_US, extent.toUs));
  if (stats.samples === 0) return undefined;
  const share = (n: number): string => formatPercent(n / stats.samples);
  // A function under 1% of the samples says little.
  const top = stats.functions.filter((f) => f.self * 100 >= stats.samples).slice(0, CPU_FUNCTIONS_SHOWN)
    .map((f) => `${formatFrame({ ...f.frame, lineNumber: hottestLine(f), columnNumber: 0 }, cwd)} ${share(f.self)}`);
  const apart = [['idle', stats.kinds.idle], ['gc', stats.kinds.gc]] as const;
  const rest = apart.filter(([, n]) => n > 0).map(([what, n]) => `${what} ${share(n)}`);
  return ` cpu      ${[...top, ...rest].join(' · ') || 'no samples'}   (last ${CPU_WINDOW_US / 1e6} s)`;
}

const TASK_TYPES_SHOWN = 4;

/** tasks and trace modes: the busiest types of the last interval, the pool, late timers. */
function taskLines(state: SessionState): string[] {
  const latest = state.tasks.latest;
  if (!latest) return [];
  const busiest = [...latest.types].sort((a, b) => b.callbacks - a.callbacks).slice(0, TASK_TYPES_SHOWN);
  const perSecond = (n: number): number => Math.round((n * 1_000_000) / Math.max(1, latest.intervalUs));
  // A percentile of no values is no figure: a type none of whose callbacks were timed (its
  // resources were made before the interval) shows its rate alone, as the summary does.
  const p99 = (t: (typeof busiest)[number]): string => (countOf(t.callbackUs) > 0 ? ` p99 ${estimateMs(percentileUs(t.callbackUs, 99, t.callbackMaxUs) / 1000)}` : '');
  const lines = [` tasks    ${busiest.map((t) => `${t.type} ${perSecond(t.callbacks)}/s${p99(t)}`).join('  ') || 'no callbacks'}`];
  const pool = latest.threadpool;
  const waitP99Ms = percentileUs(pool.queueUs, 99, poolWaitMaxUs(latest.types)) / 1000;
  const saturated = poolSaturated(pool.maxQueued, waitP99Ms) ? `  SATURATED: ${pool.maxQueued} waiting` : '';
  const wait = countOf(pool.queueUs) > 0 ? `wait p99 ${estimateMs(waitP99Ms)}` : 'none called back';
  lines.push(` pool     ${pool.maxInFlight} of ${pool.size} ${nounFor(pool.size, 'thread')} busy at most, ${wait}${saturated}`);
  if (latest.timers.fired > 0) lines.push(` timers   ${perSecond(latest.timers.fired)}/s, late p99 ${estimateMs(percentileUs(latest.timers.lateUs, 99, latest.timers.lateMaxUs) / 1000)}`);
  // Only when it costs: the summary says it in every case.
  if (promisesCostly(latest.promisesTracked, latest.promiseSkipping)) lines.push(` promises ${promiseNote(latest.promisesTracked, latest.promiseSkipping)}`);
  return lines;
}
