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

/** Undefined for a report with no samples to speak of (an interrupt stack, the sampler off). */
export function blockSamplesText({ samples, sampled, sampleKinds }: BlockSamples): string | undefined {
  if (samples === null || samples === undefined || sampled === null || sampled === undefined) return undefined;
  const kinds = kindsText(sampleKinds);
  if (samples === 0) return `None of the block's ${sampled} CPU samples ran JavaScript${kinds ? ` (${kinds})` : ''}: this stack is the watchdog's, taken inside the block.`;
  return `This stack in ${samples} of the block's ${sampled} CPU samples${kinds ? `; ${kinds}` : ''}.`;
}
