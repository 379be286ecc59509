// `loopscope ps` on real processes: what it says about each kind of target.

import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { PsEntry } from '../main/attach/process-list';
import { eventually, killAll, loopscope, startLoopscope, startTarget, unexpectedStderr } from './helpers/attach-harness';

afterEach(killAll);

async function ps(): Promise<PsEntry[]> {
  const r = await loopscope(['ps', '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as PsEntry[];
}

describe('loopscope ps', () => {
  it('lists Node processes with whether they can be attached, hold a probe, or have an inspector open', async () => {
    const plain = await startTarget('attach-app.js');
    const permission = await startTarget('attach-app.js', { nodeArgs: ['--experimental-permission', '--allow-fs-read=*'] });
    const inspecting = await startTarget('attach-app.js', { nodeArgs: ['--inspect=127.0.0.1:0'] });
    // Its inspector opens on a port of the system's choosing: no contention with other tests.
    const probed = await startTarget('attach-app.js', { nodeArgs: ['--inspect-port=0'] });
    const notNode = await startTarget('attach-not-node.sh', { executable: true, env: { SIGNAL_LOG: '/dev/null' } });
    const watcher = startLoopscope(['attach', String(probed.pid), '--json']);
    await eventually(async () => (await ps()).find((e) => e.pid === probed.pid)?.probe === true, 5000);

    const entries = await ps();
    const byPid = new Map(entries.map((e) => [e.pid, e]));
    expect(byPid.get(plain.pid)).toMatchObject({
      attachable: true, reason: null, probe: false, inspector: { open: false, port: null }, nodeVersion: process.version, executable: process.execPath,
    });
    expect(byPid.get(plain.pid)!.command.join(' ')).toMatch(/attach-app\.js$/);
    expect(byPid.get(permission.pid)).toMatchObject({ attachable: false, reasonCode: 'inspector-disabled', reason: expect.stringMatching(/permission model/) });
    expect(byPid.get(inspecting.pid)).toMatchObject({ attachable: true, inspector: { open: true } });
    expect(byPid.get(probed.pid)).toMatchObject({ attachable: false, probe: true, reasonCode: 'already-attached' });
    expect(byPid.has(notNode.pid)).toBe(false);
    expect(byPid.has(watcher.child.pid!)).toBe(true); // loopscope is a Node process too, but never lists itself

    const table = await loopscope(['ps']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^PID\s+NODE\s+ATTACH\s+PROBE\s+INSPECTOR\s+COMMAND/);
    expect(table.stdout).toMatch(new RegExp(`^${plain.pid}\\s+${process.version.replace(/\./g, '\\.')}\\s+inspector\\s+-\\s+-\\s+\\S*node .*attach-app\\.js$`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${probed.pid}\\s+\\S+\\s+no\\s+inside`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^  ${permission.pid}: runs with the permission model`, 'm'));

    watcher.child.kill('SIGINT');
    expect((await watcher.done).code).toBe(0);
    // Looking is all ps does: no target heard from it.
    expect(unexpectedStderr(probed.stderr())).toEqual([]);
    expect(plain.stderr()).toBe('');
  });

  it('identifies Node by its executable, not by a name that process.title changed', async () => {
    const renamed = spawn(process.execPath, ['-e', 'process.title = "not-node-at-all"; setInterval(() => {}, 1000); console.log("ready")'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => renamed.stdout.once('data', resolve));
      const entry = (await ps()).find((e) => e.pid === renamed.pid);
      expect(entry).toMatchObject({ attachable: true, executable: process.execPath });
    } finally {
      renamed.kill('SIGKILL');
      await new Promise((resolve) => renamed.once('exit', resolve));
    }
  });

  it('lists only the current user\'s processes', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('starting a process as another user needs root');
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000); console.log("ready")'], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => other.stdout.once('data', resolve));
      expect((await ps()).some((e) => e.pid === other.pid)).toBe(false);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
  });
});
