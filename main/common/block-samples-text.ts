// What a blocked report's CPU samples say of its stack, in a sentence: the window's block
// detail and the Chrome trace export's block slices say the same. Pure, with no Node API.

import type { BlockSampleKinds } from '../../probe/wire';

/** What a report says of its samples (the wire's report, or the window's view of it). */
export interface BlockSamples {
  readonly samples?: number | null;
  readonly sampled?: number | null;
  readonly sampleKinds?: BlockSampleKinds | null;
}

const KIND_WORDS: readonly (readonly [keyof BlockSampleKinds, string])[] = [['gc', 'in GC'], ['idle', 'idle'], ['program', 'in V8\'s own work'], ['probe', 'in the probe']];

/** "3 in GC, 1 idle": the samples that ran no JavaScript, by what they ran. */
function kindsText(kinds: BlockSampleKinds | null | undefined): string {
  return KIND_WORDS.filter(([k]) => (kinds?.[k] ?? 0) > 0).map(([k, words]) => `${kinds![k]} ${words}`).join(', ');
}

/** A block's length and the sampler's interval, to tell the samples it should have had. */
export interface BlockSpan {
  readonly durationMs: number;
  readonly intervalMs: number;
}

/**
 * Where a block had under half the samples its length was due (and at least 3 were), what
 * became of the rest: the sampler's signal waits for a system call to return, and for a CPU.
 */
function shortfallText(sampled: number, span: BlockSpan | undefined): string {
  const due = span && span.intervalMs > 0 ? Math.floor(span.durationMs / span.intervalMs) : 0;
  if (due < 3 || sampled >= due / 2) return '';
  return ` It had ${sampled} where about ${due} were due: the rest of it passed with no sample (the main thread in a system call, such as a large file read, or without a CPU).`;
}

/** Undefined for a report with no samples to speak of (an interrupt stack, the sampler off). */
export function blockSamplesText({ samples, sampled, sampleKinds }: BlockSamples, span?: BlockSpan): string | undefined {
  if (samples === null || samples === undefined || sampled === null || sampled === undefined) return undefined;
  const kinds = kindsText(sampleKinds);
  const short = shortfallText(sampled, span);
  if (samples === 0) return `None of the block's ${sampled} CPU samples ran JavaScript${kinds ? ` (${kinds})` : ''}: this stack is the watchdog's, taken inside the block.${short}`;
  return `This stack in ${samples} of the block's ${sampled} CPU samples${kinds ? `; ${kinds}` : ''}.${short}`;
}
