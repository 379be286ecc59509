// The time the CPU sampler missed. V8's sampler signals the main thread once an interval; a
// thread inside a system call (a large file read) or waiting for a CPU takes the signals only
// when it runs JavaScript again, as one sample however many were due. Sample counts then leave
// that time out, and the gaps between the samples' times show it. Pure.

import type { ProfileFrame } from '../../probe/wire';
import type { ProfileRange, ProfileTree } from './profile-model';
import { isUserCode } from './profile-stats';

/** Missed time is worth telling from this much, and this share of the sampled span. */
const TOLD_MIN_US = 100_000;
const TOLD_MIN_SHARE = 0.1;

export interface SampleGaps {
  /** µs between samples beyond one interval, in the gaps of over 1.5 intervals. */
  readonly missedUs: number;
  /** µs from the first sample to the last. */
  readonly spanUs: number;
  /**
   * Where the most missed time ended: the program's own function in the stack of the sample
   * that ended each gap (or its leaf, when no function of the program's is in it).
   */
  readonly mostlyIn?: { readonly frame: ProfileFrame; readonly missedUs: number };
}

/** A gap counts from this many intervals: a sample's timing wobbles by a fraction of one. */
const GAP_INTERVALS = 1.5;

/** The frame a gap ending in the sample `leaf` is put on. */
function gapFrame(tree: ProfileTree, leaf: number): ProfileFrame {
  for (let n = leaf; n !== 0; n = tree.parent(n)) if (isUserCode(tree.frame(n))) return tree.frame(n);
  return tree.frame(leaf);
}

const frameKey = (f: ProfileFrame): string => `${f.functionName}\n${f.url}\n${f.lineNumber}`;

export function sampleGaps(tree: ProfileTree, range: ProfileRange): SampleGaps {
  const { times, nodes, intervalUs } = range;
  if (times.length < 2 || !(intervalUs > 0)) return { missedUs: 0, spanUs: 0 };
  let missedUs = 0;
  const byFrame = new Map<string, { frame: ProfileFrame; missedUs: number }>();
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    if (gap <= GAP_INTERVALS * intervalUs) continue;
    const missed = gap - intervalUs;
    missedUs += missed;
    const frame = gapFrame(tree, nodes[i]!);
    const key = frameKey(frame);
    const entry = byFrame.get(key);
    if (entry) entry.missedUs += missed;
    else byFrame.set(key, { frame, missedUs: missed });
  }
  let mostlyIn: SampleGaps['mostlyIn'];
  for (const e of byFrame.values()) if (!mostlyIn || e.missedUs > mostlyIn.missedUs) mostlyIn = e;
  return { missedUs, spanUs: times[times.length - 1]! - times[0]!, ...(mostlyIn ? { mostlyIn } : {}) };
}

/** The gaps of a range, when they are large enough to tell: the counts then leave out much. */
export function unsampledTime(tree: ProfileTree, range: ProfileRange): SampleGaps | undefined {
  const gaps = sampleGaps(tree, range);
  return gaps.missedUs >= TOLD_MIN_US && gaps.missedUs >= TOLD_MIN_SHARE * gaps.spanUs ? gaps : undefined;
}
