// The session's charts, drawn so that a flood of samples costs no more than a trickle:
// - at most one point per POINT_PX pixel columns (downsampleMax keeps the peaks), animation off;
// - the charts take turns, one redraw per animation frame (useFrameTurn);
// - everything but the data is a constant element. React skips an element it has already
//   rendered, so new data redraws the series without re-rendering axes, lines and legend
//   (recharts 3 re-registers each of those in its store whenever it re-renders);
// - GC pauses are a step area, not bars: recharts keys each bar by its position, so on a
//   moving time axis every bar was remounted (and measured) at every redraw.

import { memo, useMemo } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, LineChart, ReferenceLine, XAxis, YAxis, Tooltip } from 'recharts';
import type { SeriesPoint } from '../../main/ui/ui-api';
import { downsampleMax } from './downsample';
import { useFrameTurn } from './use-frame-turn';
import { useWidth } from './use-width';

const HEIGHT = 200;
/** Pixels per drawn point: two look the same as one, and every point costs recharts objects at every redraw. */
const POINT_PX = 2;
const MARGIN = { top: 8, right: 16, bottom: 0, left: 0 };
const AXIS = '#8a93a6';
// One decimal at most: a short session gets ticks like 0.5 s, 1 s, 1.5 s rather than 1 s twice.
const tickSeconds = (t: number): string => `${Number(t.toFixed(1))} s`;

const grid = <CartesianGrid stroke="#2a2f3a" />;
const timeAxis = <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={tickSeconds} stroke={AXIS} />;
const valueAxis = <YAxis stroke={AXIS} width={48} />;
const tooltip = <Tooltip isAnimationActive={false} />;
const legend = <Legend verticalAlign="top" height={22} iconSize={10} />;

const LAG_KEYS = ['p50Ms', 'p99Ms', 'maxMs'] as const;
const lagSeries = (
  <>
    <Line dataKey="p50Ms" name="p50" stroke="#57ab5a" dot={false} isAnimationActive={false} />
    <Line dataKey="p99Ms" name="p99" stroke="#c69026" dot={false} isAnimationActive={false} />
    <Line dataKey="maxMs" name="max" stroke="#e5534b" dot={false} isAnimationActive={false} />
  </>
);
const thresholdLabel = { value: 'block threshold', fill: '#e5534b', position: 'insideTopRight' } as const;

const LOAD_KEYS = ['utilization', 'cpu'] as const;
const toPercent = (p: SeriesPoint) => ({ t: p.t, utilization: p.utilization * 100, cpu: p.cpu * 100 });
const loadParts = (
  <>
    {grid}{timeAxis}{valueAxis}{tooltip}{legend}
    <Line dataKey="utilization" name="loop utilization" stroke="#6cb6ff" dot={false} isAnimationActive={false} />
    <Line dataKey="cpu" name="CPU" stroke="#b083f0" dot={false} isAnimationActive={false} />
  </>
);

const HEAP_KEYS = ['heapUsedMb', 'heapTotalMb', 'gcMs'] as const;
const heapParts = (
  <>
    {grid}{timeAxis}
    <YAxis yAxisId="mb" stroke={AXIS} width={48} />
    <YAxis yAxisId="gc" orientation="right" stroke={AXIS} width={40} />
    {tooltip}{legend}
    <Area yAxisId="mb" dataKey="heapUsedMb" name="heap used" stroke="#57ab5a" fill="#57ab5a33" isAnimationActive={false} />
    <Line yAxisId="mb" dataKey="heapTotalMb" name="heap total" stroke={AXIS} dot={false} isAnimationActive={false} />
    <Area yAxisId="gc" type="stepAfter" dataKey="gcMs" name="GC pause" stroke="#c69026" fill="#c6902699" isAnimationActive={false} />
  </>
);

interface ChartProps {
  readonly points: readonly SeriesPoint[];
}

interface FrameProps {
  readonly title: string;
  readonly testId: string;
  readonly extra?: React.ReactNode;
  readonly bodyRef: React.RefObject<HTMLDivElement | null>;
  readonly children: React.ReactNode;
}

function Frame({ title, testId, extra, bodyRef, children }: FrameProps) {
  return (
    <section className="chart" data-testid={testId}>
      <h3>{title}{extra}</h3>
      <div ref={bodyRef} className="chart-body">{children}</div>
    </section>
  );
}

/** The points to draw, on this chart's turn, at most one per POINT_PX columns of `width`. */
function useDrawn<P extends { readonly t: number }>(points: readonly P[], width: number, keys: readonly (keyof P)[]): { shown: readonly P[]; data: P[] } {
  const shown = useFrameTurn(points);
  const data = useMemo(() => downsampleMax(shown, width / POINT_PX, keys), [shown, width, keys]);
  return { shown, data };
}

export const LagChart = memo(function LagChart({ points, thresholdMs }: ChartProps & { readonly thresholdMs: number }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const { shown, data } = useDrawn(points, width, LAG_KEYS);
  const peak = useMemo(() => shown.reduce((m, p) => Math.max(m, p.maxMs), 0), [shown]);
  const parts = useMemo(() => (
    <>
      {grid}{timeAxis}{valueAxis}{tooltip}{legend}
      <ReferenceLine y={thresholdMs} stroke="#e5534b" strokeDasharray="4 4" label={thresholdLabel} />
      {lagSeries}
    </>
  ), [thresholdMs]);
  const chart = useMemo(() => width > 0 && <LineChart width={width} height={HEIGHT} margin={MARGIN} data={data}>{parts}</LineChart>, [width, data, parts]);
  return (
    <Frame title="Loop lag (ms)" testId="lag-chart" bodyRef={ref} extra={<span className="peak" data-testid="lag-peak" data-peak-ms={peak}> peak {peak.toFixed(1)} ms</span>}>
      {chart}
    </Frame>
  );
});

export const LoadChart = memo(function LoadChart({ points }: ChartProps) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const percent = useMemo(() => points.map(toPercent), [points]);
  const { data } = useDrawn(percent, width, LOAD_KEYS);
  const chart = useMemo(() => width > 0 && <LineChart width={width} height={HEIGHT} margin={MARGIN} data={data}>{loadParts}</LineChart>, [width, data]);
  return <Frame title="Loop utilization and CPU (%)" testId="load-chart" bodyRef={ref}>{chart}</Frame>;
});

export const HeapChart = memo(function HeapChart({ points }: ChartProps) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const { data } = useDrawn(points, width, HEAP_KEYS);
  const chart = useMemo(() => width > 0 && <ComposedChart width={width} height={HEIGHT} margin={MARGIN} data={data}>{heapParts}</ComposedChart>, [width, data]);
  return <Frame title="Heap (MB) and GC pauses (ms)" testId="heap-chart" bodyRef={ref}>{chart}</Frame>;
});
