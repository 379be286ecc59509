// The session's charts, drawn so that a flood of samples costs no more than a trickle:
// - at most one point per POINT_PX pixel columns (downsampleMax keeps the peaks), animation off;
// - the charts take turns, one redraw per animation frame (useFrameTurn);
// - everything but the data is an element that changes only when what it shows changes (the
//   axes' ticks move only when a round time enters or leaves the window). React skips an
//   element it has already rendered, so new data redraws the series without re-rendering axes,
//   lines and legend (recharts 3 re-registers each of those in its store whenever it re-renders);
// - GC pauses are a step area, not bars: recharts keys each bar by its position, so on a
//   moving time axis every bar was remounted (and measured) at every redraw.
// The three share a crosshair (one syncId, matched by time), read in the dark theme's tooltip.

import { memo, useMemo, useRef, type MouseEvent } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, LineChart, ReferenceLine, XAxis, YAxis, Tooltip } from 'recharts';
import type { TickItem } from 'recharts/types/util/types';
import type { MouseHandlerDataParam } from 'recharts/types/synchronisation/types';
import { formatMs } from '../../main/common/format';
import type { SeriesPoint } from '../../main/ui/ui-api';
import { downsampleMax } from './downsample';
import { nearestTickIndex } from './nearest-tick';
import { ChartTip, type SeriesFormat } from './ChartTip';
import { decimalsFor, valueAxis } from './nice-ticks';
import { formatAxisTime, timeTicks, type TimeAxisMode } from './time-axis';
import { useFrameTurn } from './use-frame-turn';
import { useWidth } from './use-width';

export const CHART_HEIGHT = 180;
/** Pixels per drawn point: two look the same as one, and every point costs recharts objects at every redraw. */
const POINT_PX = 2;
const MARGIN = { top: 8, right: 12, bottom: 0, left: 0 };
/** A value axis's width, px: the plot begins this far right of the margin. */
const VALUE_AXIS_PX = 48;
const AXIS = '#8a93a6';
const SYNC_ID = 'session-charts';
/** Time ticks at least this far apart: "12.5 s", or the wider "14:03:07" of the clock. */
const TIME_TICK_PX = 52;
const CLOCK_TICK_PX = 84;

/** The crosshair moves to the point nearest in time to the one hovered in another chart. */
const byTime = (ticks: ReadonlyArray<TickItem>, data: MouseHandlerDataParam): number =>
  nearestTickIndex(ticks.map((tick) => Number(tick.value)), data.activeLabel);

const grid = <CartesianGrid stroke="#2a2f3a" />;
const legend = <Legend verticalAlign="top" height={22} iconSize={10} />;

const ms: SeriesFormat = (v) => formatMs(v);
const percent: SeriesFormat = (v) => `${Math.round(v)}%`;
const megabytes: SeriesFormat = (v) => `${v.toFixed(1)} MB`;

const LAG_KEYS = ['p50Ms', 'p99Ms', 'maxMs'] as const;
// The max is an area under the percentile lines: an interval holds about ten heartbeats, so
// its p99 is often its max, and a max line drawn over it hid the p99 line whole.
const lagSeries = (
  <>
    <Area dataKey="maxMs" name="max" stroke="#e5534b" strokeWidth={1} fill="#e5534b40" isAnimationActive={false} />
    <Line dataKey="p99Ms" name="p99" stroke="#c69026" strokeWidth={2} dot={false} isAnimationActive={false} />
    <Line dataKey="p50Ms" name="p50" stroke="#57ab5a" strokeWidth={2} dot={false} isAnimationActive={false} />
  </>
);

const LOAD_KEYS = ['utilization', 'cpu'] as const;
const toPercent = (p: SeriesPoint) => ({ t: p.t, utilization: p.utilization * 100, cpu: p.cpu * 100 });
const loadSeries = (
  <>
    <Line dataKey="utilization" name="loop utilization" stroke="#6cb6ff" dot={false} isAnimationActive={false} />
    <Line dataKey="cpu" name="CPU" stroke="#b083f0" dot={false} isAnimationActive={false} />
  </>
);

const HEAP_KEYS = ['heapUsedMb', 'heapTotalMb', 'gcMs'] as const;
const heapSeries = (
  <>
    <Area yAxisId="mb" dataKey="heapUsedMb" name="used" stroke="#57ab5a" fill="#57ab5a33" isAnimationActive={false} />
    <Line yAxisId="mb" dataKey="heapTotalMb" name="total" stroke={AXIS} dot={false} isAnimationActive={false} />
    <Area yAxisId="gc" type="stepAfter" dataKey="gcMs" name="GC" stroke="#c69026" fill="#c6902699" isAnimationActive={false} />
  </>
);

interface ChartProps {
  readonly points: readonly SeriesPoint[];
  readonly axis: TimeAxisMode;
}

interface FrameProps {
  readonly title: React.ReactNode;
  readonly testId: string;
  readonly bodyRef: React.RefObject<HTMLDivElement | null>;
  readonly domain: readonly [number, number];
  readonly onClick?: (e: MouseEvent<HTMLDivElement>) => void;
  readonly children: React.ReactNode;
}

function Frame({ title, testId, bodyRef, domain, onClick, children }: FrameProps) {
  return (
    <section className="chart" data-testid={testId} data-t0={domain[0]} data-t1={domain[1]}>
      <h3>{title}</h3>
      <div ref={bodyRef} className="chart-body" onClick={onClick}>{children}</div>
    </section>
  );
}

/** The points to draw, on this chart's turn, at most one per POINT_PX columns of `width`. */
function useDrawn<P extends { readonly t: number }>(points: readonly P[], width: number, keys: readonly (keyof P)[]): { shown: readonly P[]; data: P[] } {
  const shown = useFrameTurn(points);
  const data = useMemo(() => downsampleMax(shown, width / POINT_PX, keys), [shown, width, keys]);
  return { shown, data };
}

/** The time axis and the tooltip: new elements only when the ticks or the mode change. */
function useTimeParts(data: readonly { readonly t: number }[], width: number, valueAxes: number, axis: TimeAxisMode, format: SeriesFormat | Readonly<Record<string, SeriesFormat>>) {
  const t0 = data[0]?.t ?? 0;
  const t1 = data[data.length - 1]?.t ?? 0;
  // Over the plot's width, which the value axes take from the chart's (the heap chart has two).
  const plot = width - MARGIN.left - MARGIN.right - valueAxes * VALUE_AXIS_PX;
  const { ticks, step } = timeTicks(t0, t1, plot, axis, axis.clock ? CLOCK_TICK_PX : TIME_TICK_PX);
  const key = ticks.join(',');
  // Keyed on the ticks, not on t0 and t1, which move at every redraw.
  const parts = useMemo(() => (
    <>
      <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} ticks={ticks} interval={0} tickFormatter={(t: number) => formatAxisTime(t, step, axis)} stroke={AXIS} />
      <Tooltip isAnimationActive={false} cursor={{ stroke: '#d6dde8', strokeWidth: 1 }} content={(p) => <ChartTip {...p} format={format} time={(t) => formatAxisTime(t, Math.min(step, 0.1), axis)} />} />
    </>
  ), [key, step, axis.clock, axis.startedAtMs, format]);
  return { parts, domain: [t0, t1] as const };
}

/** A value axis from 0 to a round top above `max`, ticks at round values; `id` for a chart with two. */
function useValueAxis(max: number, props: { readonly id?: string; readonly label?: string; readonly right?: boolean } = {}) {
  const { top, ticks, step } = valueAxis(max);
  const key = ticks.join(',');
  return useMemo(() => (
    <YAxis
      {...(props.id ? { yAxisId: props.id } : {})}
      orientation={props.right ? 'right' : 'left'}
      stroke={AXIS}
      width={props.label ? 56 : VALUE_AXIS_PX}
      domain={[0, top]}
      ticks={ticks}
      interval={0}
      allowDataOverflow
      tickFormatter={(v: number) => v.toFixed(decimalsFor(step))}
      label={props.label ? { value: props.label, angle: props.right ? 90 : -90, position: props.right ? 'insideRight' : 'insideLeft', fill: AXIS, style: { textAnchor: 'middle' } } : undefined}
    />
  ), [key, top, props.id, props.label, props.right]);
}

const maxOf = <P,>(points: readonly P[], f: (p: P) => number): number => points.reduce((m, p) => Math.max(m, f(p)), 0);

interface LagProps extends ChartProps {
  readonly thresholdMs: number;
  /** A click on the chart, at time `t` (a spike: its blocked-loop report). */
  readonly onPick?: (t: number) => void;
}

export const LagChart = memo(function LagChart({ points, axis, thresholdMs, onPick }: LagProps) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const { shown, data } = useDrawn(points, width, LAG_KEYS);
  const peak = useMemo(() => maxOf(shown, (p) => p.maxMs), [shown]);
  const { parts: timeParts, domain } = useTimeParts(data, width, 1, axis, ms);
  const yAxis = useValueAxis(peak);
  const parts = useMemo(() => (
    <>
      {grid}{timeParts}{yAxis}{legend}
      <ReferenceLine y={thresholdMs} stroke="#e5534b" strokeDasharray="4 4" />
      {lagSeries}
    </>
  ), [thresholdMs, timeParts, yAxis]);
  const chart = useMemo(() => width > 0 && (
    <ComposedChart width={width} height={CHART_HEIGHT} margin={MARGIN} data={data} syncId={SYNC_ID} syncMethod={byTime} title="Loop lag chart: arrow keys step through the samples" style={{ cursor: 'pointer' }}>{parts}</ComposedChart>
  ), [width, data, parts]);
  // The time under the pointer, from where it is on the plot: not from the chart's hover
  // state, which a click can outrun when the page is busy.
  const shownDomain = useRef(domain);
  shownDomain.current = domain;
  const onClick = (e: MouseEvent<HTMLDivElement>): void => {
    const left = e.currentTarget.getBoundingClientRect().left + MARGIN.left + VALUE_AXIS_PX;
    const plot = width - MARGIN.left - VALUE_AXIS_PX - MARGIN.right;
    const [t0, t1] = shownDomain.current;
    const share = (e.clientX - left) / plot;
    if (onPick && plot > 0 && share >= 0 && share <= 1) onPick(t0 + share * (t1 - t0));
  };
  const title = (
    <>
      Loop lag (ms)
      <span className="chart-note" data-testid="lag-threshold" title="The block threshold: lag past it is a blocked loop"><span className="dash" /> threshold {thresholdMs} ms</span>
      <span className="peak" data-testid="lag-peak" data-peak-ms={peak} title={`The highest lag in view: ${formatMs(peak)}`}>peak {formatMs(peak)}</span>
    </>
  );
  return <Frame title={title} testId="lag-chart" bodyRef={ref} domain={domain} onClick={onClick}>{chart}</Frame>;
});

export const LoadChart = memo(function LoadChart({ points, axis }: ChartProps) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const inPercent = useMemo(() => points.map(toPercent), [points]);
  const { data } = useDrawn(inPercent, width, LOAD_KEYS);
  const top = useMemo(() => Math.max(100, maxOf(data, (p) => Math.max(p.cpu, p.utilization))), [data]);
  const { parts: timeParts, domain } = useTimeParts(data, width, 1, axis, percent);
  const yAxis = useValueAxis(top);
  const parts = useMemo(() => <>{grid}{timeParts}{yAxis}{legend}{loadSeries}</>, [timeParts, yAxis]);
  const chart = useMemo(() => width > 0 && <LineChart width={width} height={CHART_HEIGHT} margin={MARGIN} data={data} syncId={SYNC_ID} syncMethod={byTime} title="Loop utilization and CPU chart: arrow keys step through the samples">{parts}</LineChart>, [width, data, parts]);
  return <Frame title="Loop utilization and CPU (%)" testId="load-chart" bodyRef={ref} domain={domain}>{chart}</Frame>;
});

const HEAP_FORMATS: Readonly<Record<string, SeriesFormat>> = { heapUsedMb: megabytes, heapTotalMb: megabytes, gcMs: ms };

export const HeapChart = memo(function HeapChart({ points, axis }: ChartProps) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const { data } = useDrawn(points, width, HEAP_KEYS);
  const [mbTop, gcTop] = useMemo(() => [maxOf(data, (p) => p.heapTotalMb), maxOf(data, (p) => p.gcMs)], [data]);
  const { parts: timeParts, domain } = useTimeParts(data, width, 2, axis, HEAP_FORMATS);
  const mbAxis = useValueAxis(mbTop, { id: 'mb', label: 'heap MB' });
  const gcAxis = useValueAxis(gcTop, { id: 'gc', label: 'GC ms', right: true });
  const parts = useMemo(() => <>{grid}{timeParts}{mbAxis}{gcAxis}{legend}{heapSeries}</>, [timeParts, mbAxis, gcAxis]);
  const chart = useMemo(() => width > 0 && <ComposedChart width={width} height={CHART_HEIGHT} margin={MARGIN} data={data} syncId={SYNC_ID} syncMethod={byTime} title="Heap and GC pauses chart: arrow keys step through the samples">{parts}</ComposedChart>, [width, data, parts]);
  return <Frame title="Heap (MB) and GC pauses (ms)" testId="heap-chart" bodyRef={ref} domain={domain}>{chart}</Frame>;
});
