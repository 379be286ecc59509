// Crafted recordings that decode to far more than they are: a 4 MB file holding 4 GB of
// dictionary (which killed `summary` by heap exhaustion), the same kind of file padded to stay
// under the reader's decompression limit, and a 1 MB file of huge blocked stacks (which made
// `export` write hundreds of MB). Each gets one line naming the limit it went past, and the
// CLI, run with a 1 GB heap, stays under 1 GB of memory.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageType } from '../probe/wire';
import { big, blockedReport, dictionaryBomb, writeBomb } from './helpers/recording-bombs';

const BIN = resolve(__dirname, '../bin/loopscope.js');
const PEAK_RSS = resolve(__dirname, 'fixtures/peak-rss.js');
const GB = 1024 ** 3;

const dir = mkdtempSync(join(tmpdir(), 'loopscope-rec-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident memory, bytes (0 when the process died before it could say). */
  readonly peakRss: number;
}

/** The CLI with a 1 GB heap (so that a runaway dies instead of taking the machine), and its peak RSS. */
function loopscopeMeasured(args: readonly string[]): Promise<Run> {
  const peakFile = join(dir, `peak-${Math.random()}`);
  const child = spawn(process.execPath, ['--max-old-space-size=1024', '--require', PEAK_RSS, BIN, ...args], {
    env: { ...process.env, PEAK_RSS_FILE: peakFile }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('exit', (code) => done({ code, stdout, stderr, peakRss: existsSync(peakFile) ? Number(readFileSync(peakFile, 'utf8')) : 0 })));
}

async function expectRefused(args: readonly string[], limit: RegExp): Promise<void> {
  const r = await loopscopeMeasured(args);
  expect(r.stderr).toMatch(limit);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.code).toBe(65);
  expect(r.stdout).toBe('');
  expect(r.peakRss).toBeGreaterThan(0);
  expect(r.peakRss).toBeLessThan(GB);
}

describe('recordings crafted to decode to gigabytes', () => {
  it('sections that decompress 1000 times their size (4 MB holding 4 GB of dictionary): refused in one line', async () => {
    const path = join(dir, 'dictionary-1000x.rec');
    expect(dictionaryBomb(path, 64)).toBeLessThan(5_000_000);
    const out = join(dir, 'out-1000x.json');
    for (const args of [['summary', path], ['summary', '--json', path], ['export', path, '-o', out]]) {
      await expectRefused(args, /dictionary-1000x\.rec cannot be read: its chunk at byte 32 holds a section that decompresses from \d+ to 64000112 bytes, more than the limit of 256 times/);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('a dictionary past its limit, in sections under the decompression limit (7.7 MB holding 1.5 GB)', async () => {
    const path = join(dir, 'dictionary-200x.rec');
    dictionaryBomb(path, 24, 200);
    for (const args of [['summary', path], ['export', path, '-o', join(dir, 'out-200x.json')]]) {
      await expectRefused(args, /dictionary-200x\.rec cannot be read: dictionary: entry 0 has 16000000 bytes, more than the limit of 4096 characters/);
    }
  });

  it('huge blocked stacks (1.3 MB holding 256 MB of reports): export writes nothing and says why', async () => {
    const path = join(dir, 'blocked-200x.rec');
    const url = big(250_000);
    writeBomb(path, { type: MessageType.Blocked, frame: (seq) => blockedReport(seq, 64, url), framesPerSection: 4, sections: 4, ratio: 200 });
    const out = join(dir, 'out-blocked.json');
    await expectRefused(['export', path, '-o', out], /blocked-200x\.rec cannot be read: a Blocked frame of 16004031 bytes, more than the limit of 262144 for its kind/);
    expect(existsSync(out)).toBe(false);
    await expectRefused(['summary', path], /more than the limit of 262144/);
  });
});
