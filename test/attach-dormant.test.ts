// Secure attach: a target started with the probe preloaded but dormant (NODE_OPTIONS
// "--require dist/probe.js"), woken by `loopscope attach` over its private socket, with no
// signal and no inspector; and its socket tried as an attacker would.

import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileLinks, tcpListenersOf } from '../main/attach/proc-info';
import { isProbeFile } from '../main/attach/probe-marker';
import type { PsEntry } from '../main/attach/process-list';
import { probePath } from '../main/launch/probe-path';
import { eventually, killAll, loopscope, startTarget, type Target } from './helpers/attach-harness';

afterEach(killAll);

const DORMANT = `--require ${probePath()}`;
const uid = process.geteuid!();
const socketOf = (pid: number): string => join(tmpdir(), `.loopscope-attach-${uid}`, `${pid}.sock`);
const hasProbe = (pid: number): boolean => openFileLinks(pid).some(isProbeFile);

async function psEntry(pid: number): Promise<PsEntry | undefined> {
  const r = await loopscope(['ps', '--json']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as PsEntry[]).find((e) => e.pid === pid);
}

/** Watches the target's TCP listeners (from /proc, making no connection) until stopped: any seen. */
function watchListeners(target: Target): { stop(): number[] } {
  const seen = new Set<number>();
  const timer = setInterval(() => {
    for (const l of tcpListenersOf(target.pid)) seen.add(l.port);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return [...seen];
    },
  };
}

/** Sends raw bytes to a socket and resolves with what came back (or the error code) when it closes. */
function exchange(path: string, bytes: string | Buffer, holdMs = 0): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    let got = '';
    socket.on('connect', () => {
      if (holdMs === 0) socket.write(bytes);
      else setTimeout(() => socket.write(bytes), holdMs);
    });
    socket.on('data', (d) => (got += d));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    socket.on('close', () => resolve(got));
  });
}

describe('secure attach: the dormant probe', () => {
  it('attaches with no signal and no inspector, reports blocked stacks, detaches, and attaches again', async () => {
    const target = await startTarget('attach-app.js', { nodeOptions: DORMANT, env: { BLOCK_MS: '80', PERIOD_MS: '300' } });
    const listeners = watchListeners(target);
    // Dormant: a private socket, and no probe running.
    expect(await eventually(() => lstatSync(socketOf(target.pid), { throwIfNoEntry: false })?.isSocket() === true, 3000)).toBe(true);
    expect(lstatSync(socketOf(target.pid)).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(tmpdir(), `.loopscope-attach-${uid}`)).mode & 0o777).toBe(0o700);
    expect(hasProbe(target.pid)).toBe(false);
    expect(await psEntry(target.pid)).toMatchObject({ attachable: true, via: 'probe', probe: false });

    for (let round = 0; round < 2; round++) {
      const r = await loopscope(['attach', String(target.pid), '--duration', '1.5', '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.attach).toMatchObject({ via: 'probe', inspector: null, timingsMs: { signalled: null, inspectorOpen: null } });
      expect(summary.samples).toBeGreaterThan(5);
      // The app's first frame names the busy wait (in a block or two the samples may fall in the timer's callback around it).
      const firstOwn = (b: { stack: { url: string; functionName: string }[] }) => b.stack.find((f) => f.url.endsWith('attach-app.js'))?.functionName;
      expect(summary.blocked.map(firstOwn)).toContain('blockFor');
      // Dormant again.
      expect(await eventually(() => !hasProbe(target.pid), 3000)).toBe(true);
      expect(await psEntry(target.pid)).toMatchObject({ attachable: true, via: 'probe', probe: false });
    }
    // No inspector, ever: Node says "Debugger listening" whenever it opens one, and the
    // target never listened on any TCP port.
    expect(listeners.stop()).toEqual([]);
    expect(target.stderr()).toBe('');
    expect(target.stdout()).toBe(`ready ${target.pid}\n`);
    expect(target.alive()).toBe(true);
  });

  it('costs a process nothing that keeps it alive, and leaves no socket behind', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => process.stdout.write("done"), 200)'], { env: { ...process.env, NODE_OPTIONS: DORMANT }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect([code, out, err]).toEqual([0, 'done', '']);
    expect(lstatSync(socketOf(child.pid!), { throwIfNoEntry: false })).toBeUndefined();
  });

  it('takes only a well-formed request from its own user, and stays attachable after garbage', async (ctx) => {
    const target = await startTarget('attach-app.js', { nodeOptions: DORMANT });
    const path = socketOf(target.pid);
    expect(await eventually(() => lstatSync(path, { throwIfNoEntry: false }) !== undefined, 3000)).toBe(true);
    const answers = await Promise.all([
      exchange(path, 'not json\n'),
      exchange(path, '{"token":"short","socketPath":"/tmp/x.sock"}\n'),
      exchange(path, `${JSON.stringify({ token: 'a'.repeat(24), socketPath: 'relative/x.sock' })}\n`),
      exchange(path, `${JSON.stringify({ token: 'a'.repeat(24), socketPath: `/${'x'.repeat(200)}` })}\n`),
      exchange(path, 'x'.repeat(10_000)), // no end of line, too long: cut off
      exchange(path, '{"token":', 2500), // too slow: cut off after 2 s
    ]);
    expect(answers.slice(0, 4).map((a) => JSON.parse(a))).toEqual([
      { status: 'failed', error: 'the request is not JSON' },
      { status: 'failed', error: 'bad token' },
      { status: 'failed', error: 'the socket path is not absolute' },
      { status: 'failed', error: 'bad socket path' },
    ]);
    // Cut off, unanswered (the long one may see its write fail as the probe closes).
    expect(answers[4]).toMatch(/^(|error EPIPE|error ECONNRESET)$/);
    expect(answers[5]).toBe('');
    // A valid request whose server is gone starts a probe that finds nobody, and turns itself off.
    // The dormant side serves 4 connections at once and drops more; on a loaded machine it may
    // not have seen the garbage ones above close yet (their client side has), so a dropped
    // request is sent again.
    const request = `${JSON.stringify({ token: 'b'.repeat(32), socketPath: join(tmpdir(), 'nobody-listens-here.sock') })}\n`;
    let orphan = await exchange(path, request);
    for (let again = 0; again < 5 && /^(|error \w+)$/.test(orphan); again++) {
      await new Promise((r) => setTimeout(r, 200));
      orphan = await exchange(path, request);
    }
    expect(JSON.parse(orphan)).toMatchObject({ status: 'started' });
    expect(await eventually(() => !hasProbe(target.pid), 3000)).toBe(true);

    const r = await loopscope(['attach', String(target.pid), '--duration', '0.5', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).attach.via).toBe('probe');
    expect(target.stderr()).toBe('');
    expect(target.alive()).toBe(true);

    if (process.getuid?.() !== 0) return ctx.skip('trying the socket as another user needs root');
    const other = spawn(process.execPath, ['-e', `require('net').createConnection(${JSON.stringify(path)}).on('error', (e) => console.log(e.code)).on('connect', () => console.log('connected'))`], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    other.stdout.on('data', (d) => (said += d));
    await new Promise((resolve) => other.on('exit', resolve));
    expect(said.trim()).toBe('EACCES');
  });

  it('attaches while other connections hold every slot of the dormant side, once one frees', async () => {
    const target = await startTarget('attach-app.js', { nodeOptions: DORMANT });
    const path = socketOf(target.pid);
    expect(await eventually(() => lstatSync(path, { throwIfNoEntry: false }) !== undefined, 3000)).toBe(true);
    // Four silent connections: the dormant side serves four at once and cuts them off after 2 s.
    const holders = Array.from({ length: 4 }, () => exchange(path, '{"token":', 2500));
    await new Promise((r) => setTimeout(r, 200));
    const r = await loopscope(['attach', String(target.pid), '--duration', '0.5', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).attach.via).toBe('probe');
    expect(await Promise.all(holders)).toEqual(['', '', '', '']);
    expect(target.alive()).toBe(true);
  });

  it('stays silent and inactive when its directory is not private, and attach then uses the inspector', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'loopscope-test-'));
    try {
      // Its temporary directory holds, where the socket directory goes, one open to others, or a link.
      const open = join(scratch, 'open');
      mkdirSync(join(open, `.loopscope-attach-${uid}`), { recursive: true });
      chmodSync(join(open, `.loopscope-attach-${uid}`), 0o755);
      const linked = join(scratch, 'linked');
      mkdirSync(join(linked, 'elsewhere'), { recursive: true, mode: 0o700 });
      symlinkSync(join(linked, 'elsewhere'), join(linked, `.loopscope-attach-${uid}`));
      for (const tmp of [open, linked]) {
        // (--inspect-port=0: no contention for 9229 with other tests)
        const target = await startTarget('attach-app.js', { nodeOptions: DORMANT, nodeArgs: ['--inspect-port=0'], env: { TMPDIR: tmp } });
        expect(await psEntry(target.pid)).toMatchObject({ attachable: true, via: 'inspector' });
        expect(lstatSync(join(tmp, `.loopscope-attach-${uid}`, `${target.pid}.sock`), { throwIfNoEntry: false })).toBeUndefined();
        expect(lstatSync(join(linked, 'elsewhere', `${target.pid}.sock`), { throwIfNoEntry: false })).toBeUndefined();
        const r = await loopscope(['attach', String(target.pid), '--duration', '0.3', '--json']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout).attach).toMatchObject({ via: 'inspector', inspector: { closed: true } });
        expect(target.stdout()).toBe(`ready ${target.pid}\n`);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
