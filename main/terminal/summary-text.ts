// The readable end-of-session report (the JSON summary, for people). Pure.

import type { BlockedGroupSummary, LoopSummary, Summary, TasksSummary } from '../reports/summary';
import type { ProfileSummary, ProfileTopEntry } from '../reports/profile-summary';
import { MessageType, messageTypeName } from '../../probe/wire';
import { mixedSourcesText } from '../common/stack-sources';
import { formatBytes, formatFrame, formatMs, formatPercent, nounFor, userFrames } from '../common/format';
import { promiseNote } from '../common/promise-note';
import { unsampledText } from '../common/unsampled-text';
import { ESTIMATE_NOTE, estimateMs } from '../common/estimate';
import { taskFindings } from '../reports/task-findings';
import { readTooSlowly, unrecordedGcText } from '../common/notice-text';
import { groupKey } from '../session/blocked-groups';
import { risingFloorText } from '../common/heap-floor-text';

const GROUPS_LISTED = 5;
const FRAMES_LISTED = 6;
const FUNCTIONS_LISTED = 5;

/**
 * Where a group's stacks came from, when not all from the CPU samples: how many from each
 * source when they differ. `unsampled`: why a block of the group had none, as its probe said;
 * `sampling`: the sampler was on at the end.
 */
function sourceNote(g: BlockedGroupSummary, unsampled: string | undefined, sampling: boolean): string {
  const interruptWhy = unsampled ? `no CPU samples, ${unsampled}` : sampling ? 'no CPU sample inside the block ran JavaScript' : 'the CPU sampler was not on';
  const lateWhy = `it may show what ran next${unsampled ? `; no CPU samples, ${unsampled}` : ''}`;
  const mixed = mixedSourcesText(g.sources, (s) => (s === 'interrupt' ? interruptWhy : s === 'late-interrupt' ? lateWhy : undefined));
  if (mixed !== undefined) return ` (stacks ${mixed})`;
  if (g.stackSource === 'interrupt') return ` (stack from the watchdog's interrupt: ${interruptWhy})`;
  if (g.stackSource === 'late-interrupt') return ` (stack taken after the block ended: ${lateWhy})`;
  return '';
}

const UNSAID_TEXT = 'none could be taken';

/** Why a group has no stack: its blocks' reason, or each of theirs with how many gave it. */
function noStackLines(reasons: NonNullable<BlockedGroupSummary['noStack']>): string[] {
  if (reasons.length <= 1) return [`      (no stack: ${reasons[0]?.reason ?? UNSAID_TEXT})`];
  return [
    `      no stack, for ${reasons.length} reasons:`,
    ...reasons.map((r, i) => `        in ${r.blocks}${i === 0 ? ` ${nounFor(r.blocks, 'block')}` : ''}: ${r.reason ?? UNSAID_TEXT}`),
  ];
}

export function renderSummaryText(s: Summary, cwd = ''): string {
  const lines: string[] = [];
  const who = s.pid === null ? 'no probe connected' : `pid ${s.pid}, node ${s.nodeVersion}, ${s.mode} mode`;
  lines.push(`loopscope summary: ${who}, ${formatMs(s.durationMs)}, ${s.samples} samples`);
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  if (s.pid === null) return lines.join('\n') + '\n';
  lines.push(`  lag          p50 ${formatMs(s.lag.p50Ms)}   p90 ${formatMs(s.lag.p90Ms)}   p99 ${formatMs(s.lag.p99Ms)}   max ${formatMs(s.lag.maxMs)}`);
  lines.push(`  utilization  mean ${formatPercent(s.utilization.mean)}   max ${formatPercent(s.utilization.max)}`);
  lines.push(`  cpu          user ${formatMs(s.cpu.userMs)}   system ${formatMs(s.cpu.systemMs)}`);
  lines.push(`  memory       heap used max ${formatBytes(s.memory.heapUsedMaxBytes)}   rss max ${formatBytes(s.memory.rssMaxBytes)}`);
  const rising = s.memory.risingFloor;
  if (rising) lines.push(`               ${risingFloorText(rising)}`);
  lines.push(`  gc           ${s.gc.count} pauses, ${formatMs(s.gc.totalMs)} in all, longest ${formatMs(s.gc.maxMs)}${s.gc.unrecorded ? `; ${unrecordedGcText(s.gc.unrecorded)}` : ''}`);
  // The notices the probe held back are in the warnings (notice-text.ts), not a slow read.
  const dropped = readTooSlowly(s.dropped.frames);
  if (dropped.length > 0) {
    // trace mode's tasks views come from its events (main/session/event-views.ts).
    const events = dropped.some(([t]) => t === messageTypeName(MessageType.TaskEvents)) ? '; the trace and the tasks views miss the events those held' : '';
    lines.push(`  dropped      ${dropped.map(([t, n]) => `${n} ${t}`).join(', ')} (${formatBytes(s.dropped.bytes)}): loopscope read too slowly${events}`);
  }
  if (s.blockedCount === 0) {
    lines.push(`  blocked      none over ${s.blockThresholdMs} ms`);
  } else {
    lines.push(`  blocked      ${s.blockedCount} time${s.blockedCount === 1 ? '' : 's'} over ${s.blockThresholdMs} ms, in ${s.blockedGroups.length} place${s.blockedGroups.length === 1 ? '' : 's'}; the most blocked time first:`);
    for (const g of s.blockedGroups.slice(0, GROUPS_LISTED)) {
      const times = g.count === 1 ? `${formatMs(g.maxMs)} once` : `${g.count}× ${formatMs(g.totalMs)} in all, longest ${formatMs(g.maxMs)}`;
      const key = groupKey(g.stack);
      const unsampled = s.blocked.find((b) => b.unsampled !== undefined && groupKey(b.stack) === key)?.unsampled;
      lines.push(`    ${times}${sourceNote(g, unsampled, s.profile?.sampler === 'on')}`);
      const frames = userFrames(g.stack).slice(0, FRAMES_LISTED);
      if (frames.length === 0) lines.push(...noStackLines(g.noStack ?? []));
      for (const f of frames) lines.push(`      at ${formatFrame(f, cwd)}`);
    }
  }
  lines.push(...loopSummaryLines(s.loops, cwd));
  lines.push(...profileLines(s, cwd));
  if (s.tasks) lines.push(...taskSummaryLines(s.tasks, cwd));
  if (s.exitCode !== null) lines.push(`  exit code    ${s.exitCode}`);
  return lines.join('\n') + '\n';
}

const LOOPS_LISTED = 32;

/** When the session had several loops: one line each, and where the longest block of each was. */
function loopSummaryLines(loops: readonly LoopSummary[], cwd: string): string[] {
  if (loops.length < 2) return [];
  const lines = [`  loops        ${loops.length}${loops.length > LOOPS_LISTED ? ` (the first ${LOOPS_LISTED})` : ''}:`];
  for (const l of loops.slice(0, LOOPS_LISTED)) {
    const exit = l.terminated ? '  terminated' : l.exitCode === null ? '' : `  exit ${l.exitCode}`;
    lines.push(`    ${`${l.pid} ${l.name}`.padEnd(30)} lag p99 ${formatMs(l.lag.p99Ms)}  max ${formatMs(l.lag.maxMs)}  utilization ${formatPercent(l.utilization.mean)}  blocked ${l.blockedCount}${exit}`);
    const longest = l.blocked[0];
    const frame = longest ? userFrames(longest.stack)[0] : undefined;
    if (longest) lines.push(`      longest ${formatMs(longest.durationMs)} at ${frame ? formatFrame(frame, cwd) : (longest.stackError ?? 'no stack')}`);
  }
  return lines;
}

/** What the listed functions are ordered by, as profile-summary.ts orders them. */
export function topHeading(top: readonly ProfileTopEntry[]): string {
  if (top.length === 0) return '';
  const own = top.some((f) => f.ownMs !== undefined);
  const rest = top.some((f) => f.ownMs === undefined);
  if (!own) return '; most self time:';
  const ownText = 'your functions by own time (theirs and that of the Node and built-in code they called)';
  return rest ? `; ${ownText}, then the rest by self time:` : `; ${ownText}:`;
}

function unsampledLine(u: NonNullable<ProfileSummary['unsampled']>, cwd: string): string {
  const m = u.mostlyIn;
  const mostlyIn = m ? { where: formatFrame({ functionName: m.functionName, url: m.url, lineNumber: m.lineNumber, columnNumber: 0 }, cwd), ms: m.ms } : undefined;
  return `    (${unsampledText({ ms: u.ms, spanMs: u.spanMs, ...(mostlyIn ? { mostlyIn } : {}) })})`;
}

export function profileLines(s: Pick<Summary, 'profile' | 'probePauses'>, cwd: string): string[] {
  const p = s.profile;
  const pauses = s.probePauses.filter((x) => x.what !== 'probe start').map((x) => `${x.what}: ${formatMs(x.durationMs)}`);
  const own = pauses.length > 0 ? [`  probe        its own pauses, not the program's: ${pauses.join('; ')}`] : [];
  if (!p) return own;
  if (p.samples === 0) return [`  cpu          no samples${p.samplerNote ? `: ${p.samplerNote}` : ''}`, ...own];
  const top = p.top.slice(0, FUNCTIONS_LISTED);
  const lines = [`  cpu          ${p.samples} samples every ${p.sampleIntervalMs} ms: code ${formatMs(p.codeMs)}, idle ${formatMs(p.idleMs)}, GC ${formatMs(p.gcMs)}${p.probeMs > 0 ? `, the probe ${formatMs(p.probeMs)}` : ''}${topHeading(top)}`];
  for (const f of top) {
    // The program's own functions are listed by their own time (profile-summary.ts), so that is the figure shown first.
    const [first, label] = f.ownMs === undefined ? [f.selfMs, 'self'] : [f.ownMs, 'own '];
    lines.push(`    ${formatMs(first).padStart(9)} ${label} ${formatMs(f.totalMs).padStart(9)} total  ${formatFrame({ functionName: f.functionName, url: f.url, lineNumber: f.lineNumber, columnNumber: 0 }, cwd)}`);
  }
  if (p.samplerNote) lines.push(`    (${p.samplerNote})`);
  if (p.unsampled) lines.push(unsampledLine(p.unsampled, cwd));
  return [...lines, ...own];
}

const TYPES_LISTED = 8;
const SAMPLED = 'sampled';

export function taskSummaryLines(t: TasksSummary, cwd: string): string[] {
  const lines = [`  tasks        ${promiseNote(t.promisesTracked, t.promiseSkipping)}`, '               by type:'];
  for (const [type, r] of Object.entries(t.byType).slice(0, TYPES_LISTED)) {
    const sampled = r.callbacksTimed < r.callbacks ? `   ${SAMPLED}` : '';
    const callback = r.callbacksTimed > 0 ? `   callback p99 ${estimateMs(r.callbackMs.p99).padStart(8)}` : '';
    const queue = r.queueMs ? `   queue p99 ${estimateMs(r.queueMs.p99).padStart(8)}` : '';
    lines.push(`    ${type.padEnd(20)} ${String(r.created).padStart(7)} created ${String(r.callbacks).padStart(7)} ${nounFor(r.callbacks, 'callback').padEnd(9)}${callback}${queue}${sampled}`.trimEnd());
  }
  if (Object.values(t.byType).some((r) => r.queueMs)) lines.push('               queue: creation to callback, for what is called back once served (requests, immediates, ticks)');
  if (Object.keys(t.byType).length > 0) lines.push(`               ${ESTIMATE_NOTE}`);
  if (Object.values(t.byType).some((r) => r.callbacksTimed < r.callbacks)) lines.push(`               ${SAMPLED}: a busy type is timed on some of its resources`);
  for (const f of taskFindings(t)) {
    lines.push(`  ${f.topic.padEnd(12)} ${f.text}${f.action ? `: ${f.action}` : ''}`);
    for (const frame of f.frames.slice(0, 3)) lines.push(`      created at ${formatFrame(frame, cwd)}`);
    if (f.chain.length > 0) lines.push(`      caused by ${f.chain.join(' → ')}`);
  }
  return lines;
}
