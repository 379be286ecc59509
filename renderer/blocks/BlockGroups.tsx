// The blocks pane: the session's blocked-loop reports grouped by where they blocked
// (main/session/blocked-groups.ts), most blocked time first, each with where its stack came
// from; the selected report's stack (a group's longest when the group was picked), and its
// group's reports, latest first. A report picked
// elsewhere (a spike clicked on the lag chart) selects its group and itself. Selecting a group
// or a report also selects its block's time for the CPU profile (SessionScreen).

import { memo, useEffect, useMemo, useRef } from 'react';
import { blockSamplesText } from '../../main/common/block-samples-text';
import { formatMs } from '../../main/common/format';
import type { StackSourceCounts } from '../../main/common/stack-sources';
import type { BlockedView, BlockGroupView, HostApi, StackSource } from '../../main/ui/ui-api';
import { StackList } from '../common/StackList';
import { groupTitle, shownBlocks, sourceBadge, type BlockSelection } from './block-selection';

interface Props {
  readonly api: HostApi;
  readonly groups: readonly BlockGroupView[];
  /** The longest reports of the session (the view keeps some). */
  readonly blocked: readonly BlockedView[];
  /** Reports in the whole session. */
  readonly count: number;
  readonly thresholdMs: number;
  /** The CPU sampler's interval, when it runs: a block with far fewer samples says why. */
  readonly samplerIntervalMs: number | undefined;
  readonly cwd: string;
  readonly selection: BlockSelection;
  readonly onSelectGroup: (group: BlockGroupView) => void;
  readonly onSelectReport: (report: BlockedView) => void;
  /** Shows the CPU profile of the block shown. */
  readonly onProfile: (report: BlockedView | undefined, group: BlockGroupView | undefined) => void;
}

/** Reports listed under a group. */
const REPORTS_SHOWN = 50;

function SourceBadge({ source, sources }: { readonly source: StackSource | null; readonly sources?: StackSourceCounts }) {
  if (!source) return null;
  const { label, title } = sourceBadge(source, sources);
  return <span className={`source source-${source}`} title={title}>{label}</span>;
}

const clock = (iso: string): string => new Date(iso).toLocaleTimeString();

export const BlockGroups = memo(function BlockGroups({ api, groups, blocked, count, thresholdMs, samplerIntervalMs, cwd, selection, onSelectGroup, onSelectReport, onProfile }: Props) {
  const { group, report, reports } = useMemo(() => shownBlocks(groups, blocked, selection), [groups, blocked, selection]);
  const samplesText = report ? blockSamplesText(report, samplerIntervalMs ? { durationMs: report.durationMs, intervalMs: samplerIntervalMs } : undefined) : undefined;
  // Blocks going on, or ended and waiting for their samples: in no group until those come,
  // unless their samples so far already place them (the session's groupsWithOngoing).
  const ungrouped = blocked.filter((b) => b.ongoing && !groups.some((g) => g.key === b.group && g.ongoing)).sort((a, b) => b.t - a.t);
  const reportRef = useRef<HTMLLIElement>(null);
  // In braces: scrollIntoView returns a promise in newer browsers, and an effect may return only its clean-up.
  useEffect(() => {
    reportRef.current?.scrollIntoView({ block: 'nearest' });
  }, [selection]);

  // Not while blocks wait for their samples: the tab counts them, and the pane says so below.
  if (groups.length === 0 && !report && ungrouped.length === 0) {
    return <p className="muted pane-empty">No block longer than {thresholdMs} ms yet. When the loop blocks, the code that blocks it shows here, grouped by where it blocked.</p>;
  }
  return (
    <div className="blocks-pane" data-testid="blocked-list">
      <section className="block-groups">
        <h3 data-testid="blocked-heading">{count} blocked loop{count === 1 ? '' : 's'} over {thresholdMs} ms, in {groups.length} place{groups.length === 1 ? '' : 's'}</h3>
        {ungrouped.length > 0 && (
          <p className="error" data-testid="blocked-now" data-count={ungrouped.length}>
            Just now, placed once their samples come:{' '}
            {ungrouped.map((b) => (
              <button key={b.id} className="link" onClick={() => onSelectReport(b)}>{formatMs(b.durationMs)} at +{b.t.toFixed(1)} s</button>
            ))}
          </p>
        )}
        <ul aria-label="places the loop blocked" data-testid="block-groups">
          {groups.map((g) => {
            const { name, where } = groupTitle(g.stack, cwd);
            return (
              <li key={g.key} data-count={g.count} data-testid="block-group">
                <button className="block-group" aria-current={g === group} title="Show this place; its longest block is the CPU profile's range" onClick={() => onSelectGroup(g)}>
                  <div><strong>{g.count}×</strong> <code>{name}</code>{g.ongoing && <span className="error"> (blocked now)</span>} <SourceBadge source={g.stackSource} sources={g.sources} /></div>
                  <div className="muted">{where}</div>
                  <div className="muted">{formatMs(g.totalMs)} in all · longest {formatMs(g.maxMs)} · latest at +{g.lastT.toFixed(1)} s</div>
                </button>
              </li>
            );
          })}
        </ul>
      </section>
      <section className="block-detail" data-testid="block-detail" data-report={report?.id}>
        {report
          ? (
            <>
              <h3>
                {report.durationMs.toFixed(1)} ms{report.ongoing ? ' (still blocked)' : ''} at +{report.t.toFixed(1)} s <span className="muted">({clock(report.at)})</span>{' '}
                <SourceBadge source={report.stackSource} />
              </h3>
              {samplesText !== undefined && <p className="muted" data-testid="block-samples">{samplesText}</p>}
              {report.unsampled !== null && <p className="muted" data-testid="block-unsampled">No CPU samples: {report.unsampled}.</p>}
              {report.stack.length > 0
                ? <StackList api={api} frames={report.stack} cwd={cwd} />
                : <p className="muted">No stack: {report.stackError ?? 'none could be taken'}</p>}
            </>
          )
          : group && (
            <>
              <h3>Longest {formatMs(group.maxMs)} at +{group.longestT.toFixed(1)} s <SourceBadge source={group.stackSource} sources={group.sources} /></h3>
              <StackList api={api} frames={group.stack} cwd={cwd} />
            </>
          )}
        <button className="to-profile" data-testid="block-profile" onClick={() => onProfile(report, group)}>CPU profile of this block →</button>
        {group && (
          <>
            <h4>{group.count} report{group.count === 1 ? '' : 's'} from here{reports.length < group.count ? `, the ${reports.length} kept (the session's longest)` : ''}, latest first</h4>
            <ol className="block-reports">
              {reports.slice(0, REPORTS_SHOWN).map((r) => (
                <li key={r.id} ref={r === report ? reportRef : undefined} aria-current={r === report} data-report={r.id}>
                  <button onClick={() => onSelectReport(r)}>{r.durationMs.toFixed(1)} ms at +{r.t.toFixed(1)} s</button>
                </li>
              ))}
            </ol>
            {reports.length > REPORTS_SHOWN && <p className="muted">and {reports.length - REPORTS_SHOWN} more</p>}
          </>
        )}
      </section>
    </div>
  );
});
