// The charts' tooltip, in the dark theme: the time, then each series with its unit, rounded
// as a reader needs it ("61.8 ms", not 61.79262031572381).

import type { TooltipContentProps } from 'recharts';

/** Writes a series' value with its unit. */
export type SeriesFormat = (value: number) => string;

interface Props extends Partial<Pick<TooltipContentProps<number, string>, 'active' | 'payload' | 'label'>> {
  /** One format for every series, or one per dataKey. */
  readonly format: SeriesFormat | Readonly<Record<string, SeriesFormat>>;
  readonly time: (t: number) => string;
}

export function ChartTip({ active, payload, label, format, time }: Props) {
  if (!active || !payload || payload.length === 0) return null;
  return (
    <div className="chart-tip" data-testid="chart-tip">
      <div className="muted">at {time(Number(label))}</div>
      {payload.map((p) => {
        const f = typeof format === 'function' ? format : format[String(p.dataKey)];
        const v = Number(p.value);
        return (
          <div key={String(p.dataKey)}>
            <span className="chip" style={{ background: p.color }} />{p.name} <strong>{f && Number.isFinite(v) ? f(v) : String(p.value)}</strong>
          </div>
        );
      })}
    </div>
  );
}
