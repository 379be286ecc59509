// Where a group's blocks got their stacks, counted. One place blocks with stacks from the CPU
// samples and from the watchdog's interrupt alike (a block before the sampler's first start,
// then sampled ones), so a group says where most came from, and how many of each when they
// differ. Pure, with no Node API: the terminal, the JSON summary and the window say the same.

import type { StackSource } from '../../probe/wire';

/** Blocks by where their stack came from; `none`: from nowhere said (no stack, or a probe from before the sampler). */
export type StackSourceCounts = Readonly<Record<StackSource | 'none', number>>;

export const NO_SOURCES: StackSourceCounts = { samples: 0, interrupt: 0, 'late-interrupt': 0, none: 0 };

/** The surer first: ties go to it. */
const ORDER = ['samples', 'interrupt', 'late-interrupt', 'none'] as const;

const WORDS: Readonly<Record<StackSource | 'none', string>> = {
  samples: 'from CPU samples',
  interrupt: 'from the watchdog\'s interrupt',
  'late-interrupt': 'taken after the block ended',
  none: 'from nowhere said',
};

export function countSource(counts: StackSourceCounts, source: StackSource | null): StackSourceCounts {
  const key = source ?? 'none';
  return { ...counts, [key]: counts[key] + 1 };
}

/** Where most of the blocks' stacks came from; null when most said none. */
export function mainSource(counts: StackSourceCounts): StackSource | null {
  const best = ORDER.reduce((a, b) => (counts[b] > counts[a] ? b : a));
  return best === 'none' ? null : best;
}

/** The sources of more than one, most blocks first; empty when all came from one. */
export function mixedSources(counts: StackSourceCounts): readonly (readonly [StackSource | 'none', number])[] {
  const present = ORDER.filter((s) => counts[s] > 0).sort((a, b) => counts[b] - counts[a]);
  return present.length > 1 ? present.map((s) => [s, counts[s]] as const) : [];
}

/**
 * "from CPU samples in 17 of 18 blocks, from the watchdog's interrupt in 1", with `note`'s
 * word on a source after it; undefined when all came from one.
 */
export function mixedSourcesText(counts: StackSourceCounts, note: (source: StackSource | 'none') => string | undefined = () => undefined): string | undefined {
  const mixed = mixedSources(counts);
  if (mixed.length === 0) return undefined;
  const total = mixed.reduce((sum, [, n]) => sum + n, 0);
  return mixed.map(([s, n], i) => {
    const why = note(s);
    return `${WORDS[s]} in ${n}${i === 0 ? ` of ${total} blocks` : ''}${why ? `: ${why}` : ''}`;
  }).join(', ');
}
