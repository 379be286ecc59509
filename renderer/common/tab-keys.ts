// Which tab a key moves to in a tab strip, as the WAI-ARIA tabs pattern has it: Left and
// Right go to the previous and next tab, round the ends; Home and End to the first and last.
// Pure.

/** The index of the tab `key` moves to from `index`, of `count` tabs; undefined for any other key. */
export function tabAfterKey(key: string, index: number, count: number): number | undefined {
  if (count <= 0) return undefined;
  if (key === 'ArrowRight') return (index + 1) % count;
  if (key === 'ArrowLeft') return (index - 1 + count) % count;
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  return undefined;
}
