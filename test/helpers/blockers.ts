// The blocking fixture (fixtures/blockers.js): its kinds of blocking call, the function and
// the line of each (the line marked `// BLOCK <kind>`), for the tests that check the blame.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './probe-harness';

export const BLOCKERS = join(FIXTURES, 'blockers.js');

export const BLOCKER_KINDS = ['json-parse', 'json-stringify', 'structured-clone', 'zlib', 'regex', 'sort', 'buffer', 'loop'] as const;
export type BlockerKind = (typeof BLOCKER_KINDS)[number];

/** The function that blocks, by kind, as the fixture names it. */
export const BLOCKER_FUNCTIONS: Readonly<Record<BlockerKind, string>> = {
  'json-parse': 'parseBig',
  'json-stringify': 'stringifyBig',
  'structured-clone': 'cloneBig',
  zlib: 'gzipBig',
  regex: 'regexBad',
  sort: 'sortBig',
  buffer: 'bufferHex',
  loop: 'loopBig',
};

/** The 1-based line of the blocking call of `kind`. */
export function blockLine(kind: BlockerKind): number {
  const lines = readFileSync(BLOCKERS, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.endsWith(`// BLOCK ${kind}`));
  if (at === -1) throw new Error(`no // BLOCK ${kind} line in ${BLOCKERS}`);
  return at + 1;
}
