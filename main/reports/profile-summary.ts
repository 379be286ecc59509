// The CPU profile part of the JSON summary: the functions with the most self time, the
// program's own code first, and the time that was no code apart (idle, GC, V8's own work,
// the probe's). Pure.

import type { ProfilerState } from '../../probe/wire';
import { frameKind } from '../common/format';
import type { ProfileModel } from '../session/profile-model';
import { hottestLine, rangeStats, type FunctionStats } from '../session/profile-stats';
import { unsampledTime } from '../session/sample-gaps';

export interface ProfileTopEntry {
  readonly functionName: string;
  readonly url: string;
  /** The line most of its own samples were on (1-based). */
  readonly lineNumber: number;
  readonly selfMs: number;
  readonly totalMs: number;
  /**
   * The program's own functions: their self time plus that of the Node and native code they
   * called (the samples whose innermost frame of the program's code is this function).
   */
  readonly ownMs?: number;
  /** own: the program's code; node: Node's; native: built-ins without a file. */
  readonly kind: 'own' | 'node' | 'native';
}

export interface ProfileSummary {
  readonly sampleIntervalMs: number;
  readonly samples: number;
  /** The program's own functions first (by ownMs), then Node's and the natives (by self time). */
  readonly top: readonly ProfileTopEntry[];
  readonly codeMs: number;
  readonly idleMs: number;
  readonly gcMs: number;
  /** V8's own work outside JavaScript (compiling, the profiler's bookkeeping). */
  readonly programMs: number;
  /** The probe's own work on the main thread (its heartbeat, its harvests). */
  readonly probeMs: number;
  readonly sampler: ProfilerState['state'];
  readonly samplerNote?: string;
  /**
   * Time between samples with none taken, when it is a large part of the sampled span (the
   * main thread in system calls, or without a CPU: sample-gaps.ts). The figures above leave it
   * out; `mostlyIn` is where most of it ended.
   */
  readonly unsampled?: {
    readonly ms: number;
    readonly spanMs: number;
    readonly mostlyIn?: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly ms: number };
  };
}

const OWN_LISTED = 10;
const OTHERS_LISTED = 5;

const round = (ms: number): number => Math.round(ms * 10) / 10;

export function summarizeProfile(model: ProfileModel, profiler: ProfilerState | undefined, fromUs = -Infinity, toUs = Infinity): ProfileSummary | null {
  if (!profiler && model.samples === 0) return null;
  const range = model.range(fromUs, toUs);
  const stats = rangeStats(model, range);
  const gaps = unsampledTime(model, range);
  const intervalMs = (stats.intervalUs || (profiler?.intervalMs ?? 0) * 1000) / 1000;
  const ms = (samples: number): number => round(samples * intervalMs);
  const entry = (f: FunctionStats): ProfileTopEntry => {
    const kind = frameKind(f.frame);
    return {
      functionName: f.frame.functionName || '(anonymous)', url: f.frame.url, lineNumber: hottestLine(f),
      selfMs: ms(f.self), totalMs: ms(f.total), ...(kind === 'own' ? { ownMs: ms(f.own) } : {}),
      kind: kind === 'own' ? 'own' : kind === 'node' ? 'node' : 'native',
    };
  };
  const entries = stats.functions.map(entry);
  // The program's own functions by the time spent in them and in what they called outside the
  // program (a function whose time goes into a native, such as a Buffer's toString, has little
  // self time of its own).
  const own = entries.filter((e) => e.kind === 'own' && (e.ownMs ?? 0) > 0).sort((a, b) => (b.ownMs ?? 0) - (a.ownMs ?? 0) || b.selfMs - a.selfMs);
  return {
    sampleIntervalMs: intervalMs,
    samples: stats.samples,
    top: [...own.slice(0, OWN_LISTED), ...entries.filter((e) => e.kind !== 'own' && e.selfMs > 0).slice(0, OTHERS_LISTED)],
    codeMs: ms(stats.kinds.code),
    idleMs: ms(stats.kinds.idle),
    gcMs: ms(stats.kinds.gc),
    programMs: ms(stats.kinds.program),
    probeMs: ms(stats.kinds.probe),
    sampler: profiler?.state ?? 'on',
    ...(profiler?.reason ? { samplerNote: profiler.reason } : {}),
    ...(gaps
      ? {
        unsampled: {
          ms: round(gaps.missedUs / 1000), spanMs: round(gaps.spanUs / 1000),
          ...(gaps.mostlyIn
            ? { mostlyIn: { functionName: gaps.mostlyIn.frame.functionName || '(anonymous)', url: gaps.mostlyIn.frame.url, lineNumber: gaps.mostlyIn.frame.lineNumber, ms: round(gaps.mostlyIn.missedUs / 1000) } }
            : {}),
        },
      }
      : {}),
  };
}
