// Blame from the CPU samples, end to end: a real process blocks its loop inside one kind of
// call (fixtures/blockers.js), `loopscope run --json` reports each block, and most reports
// name the calling function at the line of the blocking call as their first user frame, on
// Node 20 and 22 (18, 24 and 26: bench/attach-matrix.mjs). Each kind is a call the watchdog's
// interrupt alone blames on the wrong code, or on none, for some of them.

import { describe, expect, it } from 'vitest';
import type { Summary } from '../main/reports/summary';
import { loopscope } from './helpers/cli';
import { BLOCKER_FUNCTIONS, BLOCKER_KINDS, BLOCKERS, blockLine, type BlockerKind } from './helpers/blockers';
import { installNode, NODE_VERSIONS } from './helpers/node-versions';

/** Inputs scaled so that each block is long enough to count on either Node (a Buffer's hex is fast on 22). */
const SCALE: Partial<Record<BlockerKind, string>> = { buffer: '2' };

const firstUserFrame = (stack: Summary['blocked'][number]['stack']) => stack.find((f) => f.url.endsWith('blockers.js'));

async function blame(node: string, kind: BlockerKind): Promise<{ summary: Summary; right: number; reports: number; detail: string }> {
  const r = await loopscope(['run', '--json', '--', node, BLOCKERS], { KIND: kind, COUNT: '5', PERIOD_MS: '400', SCALE: SCALE[kind] ?? '1' });
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout) as Summary;
  // The blocks of the timer's calls: after the fixture made its input (its own startup block).
  const readyMs = Number(/ready \d+ ([\d.]+)/.exec(r.stderr)?.[1]);
  expect(readyMs, r.stderr).toBeGreaterThan(0);
  const blocks = summary.blocked.filter((b) => b.startMs > readyMs && !b.ongoing);
  const line = blockLine(kind);
  const right = blocks.filter((b) => {
    const f = firstUserFrame(b.stack);
    if (f?.functionName === BLOCKER_FUNCTIONS[kind] && f.lineNumber === line) return true;
    // A sort whose comparator holds most of the block's samples (Node 20 and 22, at times):
    // the comparator, defined on the line of the sort, called by the function that sorts.
    const caller = b.stack.filter((x) => x.url.endsWith('blockers.js'))[1];
    return kind === 'sort' && f?.functionName === '' && f.lineNumber === line && caller?.functionName === BLOCKER_FUNCTIONS[kind];
  });
  const detail = blocks.map((b) => `${Math.round(b.durationMs)} ms ${b.stackSource}/${b.lineSource}: ${b.stack.slice(0, 4).map((f) => `${f.functionName}:${f.lineNumber}`).join(' < ')}`).join('\n');
  return { summary, right: right.length, reports: blocks.length, detail };
}

for (const version of [process.versions.node, NODE_VERSIONS[22]]) {
  describe(`blame from samples on Node ${version}`, () => {
    let node: string | { reason: string };
    const binary = async (): Promise<string | { reason: string }> => {
      node ??= version === process.versions.node ? process.execPath : await installNode(version).catch((err: Error) => ({ reason: err.message }));
      return node;
    };

    for (const kind of BLOCKER_KINDS) {
      it(`a block inside ${kind}: the caller and the line of the call, in most reports`, async (ctx) => {
        const bin = await binary();
        if (typeof bin !== 'string') return ctx.skip(`no Node ${version}: ${bin.reason}`);
        const { summary, right, reports, detail } = await blame(bin, kind);
        expect(summary.nodeVersion, JSON.stringify(summary.warnings)).toBe(`v${version}`);
        expect(reports, detail).toBeGreaterThanOrEqual(3);
        expect(right, detail).toBeGreaterThan(reports / 2);
        // The samples told, not the interrupt (which is only the fallback).
        expect(summary.blocked.filter((b) => b.stackSource === 'samples').length, detail).toBeGreaterThanOrEqual(right);
        // And the whole profile has the blocking function on top of the program's own (a sort's
        // comparator, called from the sort builtin, shares its time).
        const top = summary.profile?.top.slice(0, kind === 'sort' ? 2 : 1).map((f) => f.functionName);
        expect(top, JSON.stringify(summary.profile?.top)).toContain(BLOCKER_FUNCTIONS[kind]);
      }, 60_000);
    }
  });
}
