// Why a group of blocks has no stack, in `loopscope summary` of a recording: from that group's
// own blocks, all of them (not only those the session keeps), and each reason with its count
// when they differ. The recordings are written by the real recorder, with keyframes among the
// blocks, and read by the real CLI.

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingWriter } from '../main/recording/recording-writer';
import { KEPT_BLOCKED } from '../main/session/session-state';
import { encodeBlocked } from '../probe/wire-json';
import type { BlockedReport } from '../probe/wire';
import type { Summary } from '../main/reports/summary';
import { countNoStack, MAX_NO_STACK_REASONS, NO_NO_STACK, noStackList } from '../main/session/no-stack-reasons';
import { loopscope } from './helpers/cli';
import { syntheticHello, toRaw } from './helpers/recording-synthetic';

const dir = mkdtempSync(join(tmpdir(), 'loopscope-no-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// What the probe's watchdog says (probe/watchdog.ts).
const UNSEEN = 'the block ended before the watchdog saw it (it polls every few ms)';
const LATE = 'the stack did not arrive in time';
const spin = [{ functionName: 'spin', url: '/srv/app.js', lineNumber: 10, columnNumber: 3 }];

type Block = Pick<BlockedReport, 'durationUs' | 'stack'> & { readonly stackError?: string };

/** Records the blocks ended, 100 ms apart, in this order; a keyframe every 50 frames. */
async function recordBlocks(name: string, blocks: readonly Block[]): Promise<string> {
  const file = join(dir, name);
  const writer = RecordingWriter.create(file, { keyframeMaxFrames: 50 });
  const t0 = Date.now();
  writer.start(syntheticHello, t0);
  blocks.forEach((b, i) => {
    const atMs = (i + 1) * 100;
    writer.write(toRaw(encodeBlocked({ id: i + 1, state: 'ended', startUs: atMs * 1000 - b.durationUs, ...b })), t0 + atMs);
  });
  await writer.close({ exitCode: 0, warnings: [] });
  return file;
}

async function summaries(file: string): Promise<{ text: string; json: Summary }> {
  const [text, json] = await Promise.all([loopscope(['summary', file]), loopscope(['summary', file, '--json'])]);
  expect(text.code, text.stderr).toBe(0);
  expect(json.code, json.stderr).toBe(0);
  return { text: text.stdout, json: JSON.parse(json.stdout) as Summary };
}

describe('a group of blocks with no stack', () => {
  it('gives each reason its blocks gave, with how many gave it, when they differ', async () => {
    // The longest says LATE: the summary once gave its reason alone, for all three.
    const file = await recordBlocks('differ.lsrec', [
      { durationUs: 60_000, stack: [], stackError: UNSEEN },
      { durationUs: 90_000, stack: [], stackError: LATE },
      { durationUs: 70_000, stack: [], stackError: UNSEEN },
    ]);
    const { text, json } = await summaries(file);
    expect(text).toContain([
      '    3× 220 ms in all, longest 90.0 ms',
      '      no stack, for 2 reasons:',
      `        in 2 blocks: ${UNSEEN}`,
      `        in 1: ${LATE}`,
    ].join('\n'));
    expect(json.blockedGroups).toHaveLength(1);
    expect(json.blockedGroups[0]!.noStack).toEqual([{ reason: UNSEEN, blocks: 2 }, { reason: LATE, blocks: 1 }]);
  });

  it('gives its blocks\' reason when the session kept none of them (longer blocks elsewhere filled its list)', async () => {
    // The session keeps the KEPT_BLOCKED longest reports; the summary once looked for the
    // reason among those, found none, and said "none could be taken" of blocks that said why.
    const longer = Array.from({ length: KEPT_BLOCKED }, (): Block => ({ durationUs: 100_000, stack: spin }));
    const file = await recordBlocks('evicted.lsrec', [{ durationUs: 55_000, stack: [], stackError: LATE }, ...longer, { durationUs: 56_000, stack: [], stackError: LATE }]);
    const { text, json } = await summaries(file);
    expect(json.blocked.every((b) => b.stack.length > 0)).toBe(true);
    expect(text).toContain(`    2× 111 ms in all, longest 56.0 ms\n      (no stack: ${LATE})\n`);
    expect(json.blockedGroups.map((g) => g.noStack)).toEqual([undefined, [{ reason: LATE, blocks: 2 }]]);
  });

  it('says when its blocks gave no reason', async () => {
    const file = await recordBlocks('unsaid.lsrec', [{ durationUs: 80_000, stack: [] }]);
    const { text, json } = await summaries(file);
    expect(text).toContain('    80.0 ms once\n      (no stack: none could be taken)\n');
    expect(json.blockedGroups[0]!.noStack).toEqual([{ reason: null, blocks: 1 }]);
  });

  it('counts a bounded number of reasons per group, whatever they say, the blocks of further ones as giving none', () => {
    const reasons = ['constructor', '__proto__', ...Array.from({ length: MAX_NO_STACK_REASONS }, (_, i) => `reason ${i}`)];
    const counts = reasons.reduce((c, stackError) => countNoStack(c, { stack: [], stackError }), countNoStack(NO_NO_STACK, { stack: [], stackError: 'constructor' }));
    expect(noStackList(counts)).toEqual([
      { reason: 'constructor', blocks: 2 }, { reason: null, blocks: 2 }, { reason: '__proto__', blocks: 1 },
      ...reasons.slice(2, MAX_NO_STACK_REASONS).map((reason) => ({ reason, blocks: 1 })),
    ]);
    expect(countNoStack(counts, { stack: spin, stackError: 'x' })).toBe(counts);
  });
});
