// Why a group's blocks have no stack: each block's probe says why (its stackError), and blocks
// of one place may say different things. Counted per group as its blocks come, so that the
// summary gives the group's own reasons, all of them, not those of the few reports the session
// keeps. Pure.

import type { BlockedReport } from '../../probe/wire';

/** Blocks with no stack by the reason their probe gave; UNSAID: none given. */
export type NoStackCounts = Readonly<Record<string, number>>;

export const UNSAID = '';
/**
 * Reasons counted per group; the blocks of any further ones count as UNSAID. The probe has a
 * handful (probe/watchdog.ts): only a crafted stream could pass this.
 */
export const MAX_NO_STACK_REASONS = 8;

export const NO_NO_STACK: NoStackCounts = {};

/** `counts` with `report` in them, if it has no stack. */
export function countNoStack(counts: NoStackCounts, report: Pick<BlockedReport, 'stack' | 'stackError'>): NoStackCounts {
  if (report.stack.length > 0) return counts;
  const said = report.stackError ?? UNSAID;
  // Own keys only: a reason may be any text, "constructor" too.
  const reason = Object.hasOwn(counts, said) || Object.keys(counts).filter((k) => k !== UNSAID).length < MAX_NO_STACK_REASONS ? said : UNSAID;
  return { ...counts, [reason]: (Object.hasOwn(counts, reason) ? counts[reason]! : 0) + 1 };
}

/** The reasons, most blocks first; `reason` null where none was given. */
export function noStackList(counts: NoStackCounts): { readonly reason: string | null; readonly blocks: number }[] {
  return Object.entries(counts)
    .filter(([, blocks]) => blocks > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, blocks]) => ({ reason: reason === UNSAID ? null : reason, blocks }));
}
