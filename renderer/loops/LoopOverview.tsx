// The loop overview: every loop of the session, by process (its pid, command, and how it
// ended), one compact row each with its status, a sparkline of its lag over the latest 30 s,
// its lag p99 and max and utilization over the latest second, and its blocks. A row opens its
// loop in the session screen. Plain SVG polylines, memoized rows, and a redraw at most twice a
// second: the figures are per second, and with 32 loops one of them changes every frame.

import { memo } from 'react';
import { useThrottled } from '../charts/use-throttled';
import type { LoopView, ProcessLoops } from '../../main/ui/ui-api';
import { loopStatusText, orderLoops, processEndText, sparkScale } from './loop-rows';
import { sparkDomain, sparkPoints, type SparkDomain } from './spark-axis';

/** Seconds of lag a sparkline holds (LoopView.recentLagMs). */
const SPARK_SECONDS = 30;
const SPARK_W = 180;
const SPARK_H = 18;
const REDRAW_MS = 500;

interface Props {
  readonly processes: readonly ProcessLoops[];
  /** The session shown: its loop's row is highlighted. */
  readonly currentId: string;
  /** Lag below this stays low on the sparklines (the block threshold). */
  readonly thresholdMs: number;
  readonly onOpen: (sessionId: string) => void;
}

export const LoopOverview = memo(function LoopOverview({ processes: latest, currentId, thresholdMs, onOpen }: Props) {
  const processes = useThrottled(latest, REDRAW_MS);
  const scaleMax = sparkScale(processes, thresholdMs);
  // One time axis for every row (each redraw's loops are new objects: the rows redraw with it anyway).
  const domain = sparkDomain(processes, SPARK_SECONDS);
  return (
    <table className="loops" data-testid="loop-overview">
      <thead>
        <tr>
          <th>Loop</th><th>Status</th>
          <th title={`Max lag of each of the latest ${SPARK_SECONDS} seconds, on one scale for every loop (0–${Math.round(scaleMax)} ms)`}>Lag, {SPARK_SECONDS} s</th>
          <th>p99</th><th>max</th><th>Utilization</th><th>Blocks</th>
        </tr>
      </thead>
      {processes.map((p) => {
        const end = processEndText(p);
        return (
          <tbody key={p.pid} data-testid="loop-process" data-pid={p.pid}>
            <tr className="loop-process">
              <th colSpan={7}>
                pid {p.pid} <span className="muted command" title={p.command.join(' ')}>{p.command.join(' ')}</span>
                {end && <span className="process-end" data-testid="process-end"> · {end}</span>}
              </th>
            </tr>
            {orderLoops(p.loops).map((l) => (
              <LoopRow key={l.threadId} loop={l} current={l.sessionId === currentId} scaleMax={scaleMax} domain={domain} onOpen={onOpen} />
            ))}
          </tbody>
        );
      })}
    </table>
  );
});

interface RowProps {
  readonly loop: LoopView;
  readonly current: boolean;
  readonly scaleMax: number;
  /** The sparklines' time axis; undefined before any loop has a second. */
  readonly domain: SparkDomain | undefined;
  readonly onOpen: (sessionId: string) => void;
}

const LoopRow = memo(function LoopRow({ loop, current, scaleMax, domain, onOpen }: RowProps) {
  const id = loop.sessionId;
  const open = id === null || current ? undefined : () => onOpen(id);
  return (
    <tr
      className={`loop-row ${loop.status}`}
      aria-current={current}
      data-testid="loop-row"
      data-name={loop.name}
      data-thread={loop.threadId}
      data-blocks={loop.blockedCount}
      onClick={open}
    >
      <td className="loop-name">
        {open
          ? <button className="link" onClick={(e) => { e.stopPropagation(); open(); }} title="Open this loop">{loop.name}</button>
          : <span title={current ? 'The loop shown' : 'Cannot be opened on its own'}>{loop.name}</span>}
      </td>
      <td className={`loop-status ${loop.status === 'ended' && (loop.terminated || (loop.exitCode ?? 0) !== 0) ? 'bad' : ''}`} data-testid="loop-status">{loopStatusText(loop)}</td>
      <td className="spark">
        <svg width={SPARK_W} height={SPARK_H} viewBox={`0 0 ${SPARK_W} ${SPARK_H}`} aria-hidden="true">
          <polyline points={domain === undefined || loop.recentLagEndMs === null ? '' : sparkPoints(loop.recentLagMs, loop.recentLagEndMs, domain, SPARK_W, SPARK_H, scaleMax)} />
        </svg>
      </td>
      <td className="num">{ms(loop.lagP99Ms)}</td>
      <td className="num">{ms(loop.lagMaxMs)}</td>
      <td className="num">{Math.round(loop.utilization * 100)}%</td>
      <td className={loop.blockedCount > 0 ? 'num bad' : 'num'} data-testid="loop-blocks">{loop.blockedCount}</td>
    </tr>
  );
});

const ms = (x: number): string => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
