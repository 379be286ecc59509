// The session's charts. Every one draws at most one point per pixel column (downsampleMax
// keeps the peaks) with animation off, so a flood of samples costs no more than a trickle.

import { memo } from 'react';
import { Area, Bar, CartesianGrid, ComposedChart, Legend, Line, LineChart, ReferenceLine, XAxis, YAxis, Tooltip } from 'recharts';
import type { SeriesPoint } from '../../main/ui-api';
import { downsampleMax } from './downsample';
import { useWidth } from './use-width';

const HEIGHT = 200;
const legend = <Legend verticalAlign="top" height={22} iconSize={10} />;
const MARGIN = { top: 8, right: 16, bottom: 0, left: 0 };
const tickSeconds = (t: number): string => `${Math.round(t)} s`;

interface ChartProps {
  readonly points: readonly SeriesPoint[];
}

function Frame({ title, testId, extra, children }: { title: string; testId: string; extra?: React.ReactNode; children: (width: number) => React.ReactNode }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  return (
    <section className="chart" data-testid={testId}>
      <h3>{title}{extra}</h3>
      <div ref={ref} className="chart-body">{width > 0 && children(width)}</div>
    </section>
  );
}

export const LagChart = memo(function LagChart({ points, thresholdMs }: ChartProps & { readonly thresholdMs: number }) {
  const peak = points.reduce((m, p) => Math.max(m, p.maxMs), 0);
  return (
    <Frame title="Loop lag (ms)" testId="lag-chart" extra={<span className="peak" data-testid="lag-peak" data-peak-ms={peak}> peak {peak.toFixed(1)} ms</span>}>
      {(width) => (
        <LineChart width={width} height={HEIGHT} margin={MARGIN} data={downsampleMax(points, width, ['p50Ms', 'p99Ms', 'maxMs'])}>
          <CartesianGrid stroke="#2a2f3a" />
          <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={tickSeconds} stroke="#8a93a6" />
          <YAxis stroke="#8a93a6" width={48} />
          <Tooltip isAnimationActive={false} />
          {legend}
          <ReferenceLine y={thresholdMs} stroke="#e5534b" strokeDasharray="4 4" label={{ value: 'block threshold', fill: '#e5534b', position: 'insideTopRight' }} />
          <Line dataKey="p50Ms" name="p50" stroke="#57ab5a" dot={false} isAnimationActive={false} />
          <Line dataKey="p99Ms" name="p99" stroke="#c69026" dot={false} isAnimationActive={false} />
          <Line dataKey="maxMs" name="max" stroke="#e5534b" dot={false} isAnimationActive={false} />
        </LineChart>
      )}
    </Frame>
  );
});

export const LoadChart = memo(function LoadChart({ points }: ChartProps) {
  const data = points.map((p) => ({ t: p.t, utilization: p.utilization * 100, cpu: p.cpu * 100 }));
  return (
    <Frame title="Loop utilization and CPU (%)" testId="load-chart">
      {(width) => (
        <LineChart width={width} height={HEIGHT} margin={MARGIN} data={downsampleMax(data, width, ['utilization', 'cpu'])}>
          <CartesianGrid stroke="#2a2f3a" />
          <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={tickSeconds} stroke="#8a93a6" />
          <YAxis stroke="#8a93a6" width={48} />
          <Tooltip isAnimationActive={false} />
          {legend}
          <Line dataKey="utilization" name="loop utilization" stroke="#6cb6ff" dot={false} isAnimationActive={false} />
          <Line dataKey="cpu" name="CPU" stroke="#b083f0" dot={false} isAnimationActive={false} />
        </LineChart>
      )}
    </Frame>
  );
});

export const HeapChart = memo(function HeapChart({ points }: ChartProps) {
  return (
    <Frame title="Heap (MB) and GC pauses (ms)" testId="heap-chart">
      {(width) => (
        <ComposedChart width={width} height={HEIGHT} margin={MARGIN} data={downsampleMax(points, width, ['heapUsedMb', 'heapTotalMb', 'gcMs'])}>
          <CartesianGrid stroke="#2a2f3a" />
          <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={tickSeconds} stroke="#8a93a6" />
          <YAxis yAxisId="mb" stroke="#8a93a6" width={48} />
          <YAxis yAxisId="gc" orientation="right" stroke="#8a93a6" width={40} />
          <Tooltip isAnimationActive={false} />
          {legend}
          <Area yAxisId="mb" dataKey="heapUsedMb" name="heap used" stroke="#57ab5a" fill="#57ab5a33" isAnimationActive={false} />
          <Line yAxisId="mb" dataKey="heapTotalMb" name="heap total" stroke="#8a93a6" dot={false} isAnimationActive={false} />
          <Bar yAxisId="gc" dataKey="gcMs" name="GC pause" fill="#c69026" isAnimationActive={false} />
        </ComposedChart>
      )}
    </Frame>
  );
});
