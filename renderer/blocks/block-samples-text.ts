// What a blocked report's CPU samples say of its stack, in a sentence. Pure.

import type { BlockedView, BlockSampleKinds } from '../../main/ui/ui-api';

const KIND_WORDS: readonly (readonly [keyof BlockSampleKinds, string])[] = [['gc', 'in GC'], ['idle', 'idle'], ['program', 'in V8\'s own work'], ['probe', 'in the probe']];

/** "3 in GC, 1 idle": the samples that ran no JavaScript, by what they ran. */
function kindsText(kinds: BlockSampleKinds | null): string {
  return KIND_WORDS.filter(([k]) => (kinds?.[k] ?? 0) > 0).map(([k, words]) => `${kinds![k]} ${words}`).join(', ');
}

/** Undefined for a report with no samples to speak of (an interrupt stack, the sampler off). */
export function blockSamplesText(report: Pick<BlockedView, 'samples' | 'sampled' | 'sampleKinds'>): string | undefined {
  const { samples, sampled, sampleKinds } = report;
  if (samples === null || sampled === null) return undefined;
  const kinds = kindsText(sampleKinds);
  if (samples === 0) return `None of the block's ${sampled} CPU samples ran JavaScript${kinds ? ` (${kinds})` : ''}: this stack is the watchdog's, taken inside the block.`;
  return `This stack in ${samples} of the block's ${sampled} CPU samples${kinds ? `; ${kinds}` : ''}.`;
}
