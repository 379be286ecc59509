// The overview's key findings: what stands out in a session, most serious first, each
// pointing at the pane that tells more. Blocks come grouped (the session's groups), tasks as the
// shared findings (task-findings.ts), the probe's drops, the GC pauses V8's trace lost, a rising heap floor and the program's end from the view, the
// other loops of the session that blocked or ended badly from its loops (loop-findings.ts). Pure.

import { formatBytes, formatMs } from '../../main/common/format';
import { risingFloorText } from '../../main/common/heap-floor-text';
import type { BlockGroupView, FindingSeverity, SessionView } from '../../main/ui/ui-api';
import { groupTitle } from '../blocks/block-selection';
import { exitIsBad, exitText } from '../console/exit-text';
import { loopFindings } from './loop-findings';

export type PaneId = 'blocks' | 'profile' | 'tasks' | 'trace' | 'console' | 'loops';

export interface KeyFinding {
  readonly id: string;
  readonly severity: FindingSeverity;
  readonly text: string;
  /** The pane that tells more; none for what the session has no pane for. */
  readonly pane?: PaneId;
  /** A place the loop blocked, to select in the blocks pane. */
  readonly group?: BlockGroupView;
  /** Another loop's session, to open instead of the pane. */
  readonly session?: string;
}

const RANK: Readonly<Record<FindingSeverity, number>> = { problem: 0, warning: 1, info: 2 };
/** Block groups named one by one; the rest are counted. */
const GROUPS_NAMED = 2;

/**
 * The parts of a session view the findings come from (a view changes far more often than they
 * do); `loops` the group's (a worker's own view has none).
 */
export type FindingSources = Pick<SessionView, 'blockGroups' | 'warnings' | 'dropped' | 'gcUnrecorded' | 'risingHeapFloor' | 'exit' | 'findings' | 'loops' | 'pid' | 'threadId'>;

export function keyFindings(view: FindingSources, cwd: string): KeyFinding[] {
  const groups = view.blockGroups;
  const out: KeyFinding[] = view.warnings.map((w, i) => ({ id: `warning-${i}`, severity: 'problem', text: w }));
  if (view.dropped.frames > 0) {
    out.push({
      id: 'drops', severity: 'problem', pane: 'trace',
      text: `The probe dropped ${view.dropped.frames.toLocaleString('en')} frames (${formatBytes(view.dropped.bytes)}): loopscope read too slowly, so the trace and the counts have gaps`,
    });
  }
  if (view.gcUnrecorded > 0) {
    const n = view.gcUnrecorded;
    out.push({
      id: 'gc-unrecorded', severity: 'info',
      text: `${n.toLocaleString('en')} GC pause${n === 1 ? '' : 's'} not recorded: V8's trace lost ${n === 1 ? 'its' : 'their'} begin or end as the probe's GC tracing changed sessions, so the GC chart and counts are short by ${n === 1 ? 'it' : 'them'}`,
    });
  }
  if (view.risingHeapFloor) {
    const text = risingFloorText(view.risingHeapFloor);
    out.push({ id: 'heap-floor', severity: 'warning', text: text[0]!.toUpperCase() + text.slice(1) });
  }
  if (view.exit) out.push({ id: 'exit', severity: exitIsBad(view.exit) ? 'problem' : 'info', pane: 'console', text: `The program ${exitText(view.exit)}` });
  groups.slice(0, GROUPS_NAMED).forEach((g, i) => {
    const { name, where: at } = groupTitle(g.stack, cwd);
    const where = g.stack.length > 0 ? `${name} (${at})` : 'a place with no stack';
    out.push({
      id: `block-${i}`, severity: 'problem', pane: 'blocks', group: g,
      text: `Loop blocked ${g.count}× in ${where}: ${formatMs(g.totalMs)} in all, longest ${formatMs(g.maxMs)}`,
    });
  });
  if (groups.length > GROUPS_NAMED) {
    out.push({ id: 'blocks-more', severity: 'warning', pane: 'blocks', text: `and in ${groups.length - GROUPS_NAMED} more place${groups.length - GROUPS_NAMED === 1 ? '' : 's'}` });
  }
  out.push(...loopFindings(view.loops, view));
  view.findings.forEach((f, i) => {
    if (f.severity !== 'info') out.push({ id: `task-${i}`, severity: f.severity, pane: 'tasks', text: `${f.title}: ${f.text}` });
  });
  return out.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
}
