// The JSON summary of a session: what `--json` prints, and later what `summary` computes from
// a recording. Pure.

import type { ProbeMode, StackFrame } from '../../probe/wire';
import { percentileOf } from './lag-histogram';
import type { SessionState } from './session-state';

export interface BlockedSummary {
  /** ms since the target's time origin (its process start). */
  readonly startMs: number;
  /** Wall-clock time of the start, ISO 8601. */
  readonly at: string;
  readonly durationMs: number;
  readonly ongoing: boolean;
  readonly stack: readonly StackFrame[];
  readonly stackError?: string;
}

export interface Summary {
  readonly pid: number | null;
  readonly nodeVersion: string | null;
  readonly command: readonly string[];
  readonly mode: ProbeMode | null;
  readonly intervalMs: number | null;
  readonly blockThresholdMs: number | null;
  readonly durationMs: number;
  readonly samples: number;
  readonly lag: { readonly p50Ms: number; readonly p90Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly utilization: { readonly mean: number; readonly max: number };
  readonly cpu: { readonly userMs: number; readonly systemMs: number };
  readonly memory: { readonly rssMaxBytes: number; readonly heapUsedMaxBytes: number };
  readonly gc: { readonly count: number; readonly totalMs: number; readonly maxMs: number };
  readonly blockedCount: number;
  readonly blocked: readonly BlockedSummary[];
  readonly dropped: { readonly frames: Readonly<Record<string, number>>; readonly bytes: number };
  readonly exitCode: number | null;
  /** Problems the user should know about (no probe connected, connection lost, ...). */
  readonly warnings: readonly string[];
}

const ms = (us: number): number => Math.round(us) / 1000;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export interface SummaryContext {
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly warnings: readonly string[];
}

export function summarize(state: SessionState, context: SummaryContext): Summary {
  const { hello, totals } = state;
  const origin = hello?.timeOriginMs ?? 0;
  return {
    pid: hello?.pid ?? null,
    nodeVersion: hello?.nodeVersion ?? null,
    command: hello ? [hello.argv[0] ?? 'node', ...hello.execArgv, ...hello.argv.slice(1)] : [],
    mode: hello?.config.mode ?? null,
    intervalMs: hello?.config.intervalMs ?? null,
    blockThresholdMs: hello?.config.blockThresholdMs ?? null,
    durationMs: Math.round(context.durationMs),
    samples: totals.samples,
    lag: {
      p50Ms: ms(percentileOf(totals.lag, 50)),
      p90Ms: ms(percentileOf(totals.lag, 90)),
      p99Ms: ms(percentileOf(totals.lag, 99)),
      maxMs: ms(totals.lagMaxUs),
    },
    utilization: {
      mean: totals.utilizationTimeUs > 0 ? round3(totals.utilizationWeighted / totals.utilizationTimeUs) : 0,
      max: round3(totals.utilizationMax),
    },
    cpu: { userMs: ms(totals.cpuUserUs), systemMs: ms(totals.cpuSystemUs) },
    memory: { rssMaxBytes: totals.rssMaxBytes, heapUsedMaxBytes: totals.heapUsedMaxBytes },
    gc: { count: totals.gcCount, totalMs: ms(totals.gcTotalUs), maxMs: ms(totals.gcMaxUs) },
    blockedCount: totals.blockedCount,
    blocked: state.blocked.map((b) => ({
      startMs: ms(b.startUs),
      at: new Date(origin + b.startUs / 1000).toISOString(),
      durationMs: ms(b.durationUs),
      ongoing: b.state === 'ongoing',
      stack: b.stack,
      ...(b.stackError === undefined ? {} : { stackError: b.stackError }),
    })),
    dropped: state.drops,
    exitCode: context.exitCode,
    warnings: context.warnings,
  };
}
