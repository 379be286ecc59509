// A loopscope killed with kill -9 leaves its private directory (socket and all) behind; the next
// one of the same user removes it, and nothing else: not another user's, not one in use, not a
// symbolic link. Each loopscope here gets a TMPDIR of its own, so only its directories are in it.

import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loopscope } from './helpers/cli';

const FIXTURE = resolve(__dirname, 'fixtures/idle.js');
const BIN = resolve(__dirname, '../bin/loopscope.js');
const temp = mkdtempSync(join(tmpdir(), 'loopscope-stale-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const ours = (): string[] => readdirSync(temp).filter((n) => n.startsWith('loopscope-'));

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

/** A pid no process has: one that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('private directories left behind', () => {
  it('are removed by the next loopscope when their owner is gone, and only those', async () => {
    const env = { ...process.env, TMPDIR: temp, RUN_MS: '2000' };
    const killed = spawn(process.execPath, [BIN, 'run', '--json', '--', process.execPath, FIXTURE], { env, stdio: 'ignore' });
    await waitFor(() => ours().some((n) => existsSync(join(temp, n, 'probe.sock'))), 'the socket');
    const [left] = ours();
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    expect(existsSync(join(temp, left!))).toBe(true);

    const dead = await deadPid();
    const others = `loopscope-${dead}-others`;
    mkdirSync(join(temp, others), { mode: 0o700 });
    if (process.getuid?.() === 0) chownSync(join(temp, others), 65534, 65534);
    const inUse = `loopscope-${process.pid}-inuse1`;
    mkdirSync(join(temp, inUse), { mode: 0o700 });
    const link = `loopscope-${dead}-link01`;
    symlinkSync(join(temp, inUse), join(temp, link));

    const next = await loopscope(['run', '--json', '--', process.execPath, '-e', '0'], { TMPDIR: temp });
    expect(next.code).toBe(0);
    const after = ours();
    expect(after).not.toContain(left);
    expect(after).toContain(inUse);
    expect(after).toContain(link);
    if (process.getuid?.() === 0) expect(after).toContain(others);
  });
});
