// The overview: the loop's charts over the latest two minutes (lag, utilization and CPU,
// heap and GC, sharing a crosshair) and the key findings, each a click from the pane that
// tells more. Of fixed size: whatever arrives, the panes below stay where they are.

import { memo } from 'react';
import type { SeriesPoint } from '../../main/ui/ui-api';
import { HeapChart, LagChart, LoadChart } from '../charts/Charts';
import type { TimeAxisMode } from '../charts/time-axis';
import type { KeyFinding } from './key-findings';

interface Props {
  readonly points: readonly SeriesPoint[];
  readonly axis: TimeAxisMode;
  readonly onClock: (clock: boolean) => void;
  readonly thresholdMs: number;
  /** No points yet: what to say instead of the charts. */
  readonly waiting: string;
  readonly findings: readonly KeyFinding[];
  readonly onFinding: (f: KeyFinding) => void;
  readonly onPickTime: (t: number) => void;
}

export const Overview = memo(function Overview({ points, axis, onClock, thresholdMs, waiting, findings, onFinding, onPickTime }: Props) {
  return (
    <section className="overview" data-testid="overview">
      <div className="overview-charts">
        {points.length === 0
          ? <p className="state overview-waiting">{waiting}</p>
          : (
            <>
              <LagChart points={points} axis={axis} thresholdMs={thresholdMs} onPick={onPickTime} />
              <LoadChart points={points} axis={axis} />
              <HeapChart points={points} axis={axis} />
            </>
          )}
      </div>
      <section className="key-findings" data-testid="key-findings">
        <h3>
          Key findings
          <span className="axis-switch" role="group" aria-label="time axis">
            <button aria-pressed={!axis.clock} onClick={() => onClock(false)} title="Seconds since the session began">since start</button>
            <button aria-pressed={axis.clock} disabled={axis.startedAtMs === null} onClick={() => onClock(true)} title="The wall clock">clock</button>
          </span>
        </h3>
        {findings.length === 0
          ? <p className="muted">Nothing stands out yet: no block over {thresholdMs} ms{points.length > 0 ? '' : ', no samples yet'}.</p>
          : (
            <ul>
              {findings.map((f) => (
                <li key={f.id} className={`finding ${f.severity}`}>
                  <button onClick={() => onFinding(f)} title="Show the details">{f.text}</button>
                </li>
              ))}
            </ul>
          )}
      </section>
    </section>
  );
});
