// The blocks pane: the blocked-loop reports grouped by where they blocked (group-blocks.ts),
// most blocked time first; the selected group's stack, and its reports, latest first. A
// report picked elsewhere (a spike clicked on the lag chart) selects its group and itself.

import { memo, useEffect, useMemo, useRef } from 'react';
import { formatMs } from '../../main/common/format';
import type { BlockedView, HostApi } from '../../main/ui/ui-api';
import { StackList } from '../common/StackList';
import { groupBlocked, groupTitle } from './group-blocks';

interface Props {
  readonly api: HostApi;
  readonly blocked: readonly BlockedView[];
  /** Reports in the whole session (the view keeps the longest of them). */
  readonly count: number;
  readonly thresholdMs: number;
  readonly cwd: string;
  readonly selected: number | undefined;
  readonly onSelect: (reportId: number) => void;
}

/** Reports listed under a group. */
const REPORTS_SHOWN = 50;

const clock = (iso: string): string => new Date(iso).toLocaleTimeString();

export const BlockGroups = memo(function BlockGroups({ api, blocked, count, thresholdMs, cwd, selected, onSelect }: Props) {
  const groups = useMemo(() => groupBlocked(blocked), [blocked]);
  const group = groups.find((g) => g.reports.some((r) => r.id === selected)) ?? groups[0];
  const report = group?.reports.find((r) => r.id === selected) ?? group?.reports[0];
  const reportRef = useRef<HTMLLIElement>(null);
  // In braces: scrollIntoView returns a promise in newer browsers, and an effect may return only its clean-up.
  useEffect(() => {
    reportRef.current?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  if (groups.length === 0) {
    return <p className="muted pane-empty">No block longer than {thresholdMs} ms yet. When the loop blocks, the code that blocks it shows here, grouped by where it blocked.</p>;
  }
  const kept = blocked.length < count ? ` (the longest ${blocked.length} kept)` : '';
  return (
    <div className="blocks-pane" data-testid="blocked-list">
      <section className="block-groups">
        <h3 data-testid="blocked-heading">{count} blocked loop{count === 1 ? '' : 's'} over {thresholdMs} ms, in {groups.length} place{groups.length === 1 ? '' : 's'}{kept}</h3>
        <ul aria-label="places the loop blocked" data-testid="block-groups">
          {groups.map((g) => {
            const { name, where } = groupTitle(g, cwd);
            return (
              <li key={g.key} data-count={g.count}>
                <button className="block-group" aria-current={g === group} onClick={() => onSelect(g.reports[0]!.id)}>
                  <div><strong>{g.count}×</strong> <code>{name}</code>{g.ongoing && <span className="error"> (still blocked)</span>}</div>
                  <div className="muted">{where}</div>
                  <div className="muted">{formatMs(g.totalMs)} in all · longest {formatMs(g.maxMs)} · latest at +{g.reports[0]!.t.toFixed(1)} s</div>
                </button>
              </li>
            );
          })}
        </ul>
      </section>
      {group && report && (
        <section className="block-detail" data-testid="block-detail" data-report={report.id}>
          <h3>{report.durationMs.toFixed(1)} ms{report.ongoing ? ' (still blocked)' : ''} at +{report.t.toFixed(1)} s <span className="muted">({clock(report.at)})</span></h3>
          {report.stack.length > 0
            ? <StackList api={api} frames={report.stack} cwd={cwd} />
            : <p className="muted">No stack: {report.stackError ?? 'none could be taken'}</p>}
          <h4>{group.count} report{group.count === 1 ? '' : 's'} from here, latest first</h4>
          <ol className="block-reports">
            {group.reports.slice(0, REPORTS_SHOWN).map((r) => (
              <li key={r.id} ref={r === report ? reportRef : undefined} aria-current={r === report} data-report={r.id}>
                <button onClick={() => onSelect(r.id)}>{r.durationMs.toFixed(1)} ms at +{r.t.toFixed(1)} s</button>
              </li>
            ))}
          </ol>
          {group.count > REPORTS_SHOWN && <p className="muted">and {group.count - REPORTS_SHOWN} more</p>}
        </section>
      )}
    </div>
  );
});
