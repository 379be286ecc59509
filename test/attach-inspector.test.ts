// What attach does with the target's inspector, tried as an attacker would: a target whose
// loop is busy most of the time (the pending SIGUSR1 wake-up reopened the inspector after
// loopscope closed it), and another client racing loopscope for the open inspector.

import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { clientEndsSeenBy, commandLineOf, listPids, tcpListenersOf } from '../main/attach/proc-info';
import { lateCloseArgs } from '../main/attach/late-close';
import { parseStat } from '../main/attach/proc-parse';
import { eventually, killAll, loopscope, sleep, startTarget, type Target } from './helpers/attach-harness';
import { FIXTURES } from './helpers/probe-harness';
import { UiBackend } from '../main/ui/ui-backend';
import type { SessionView } from '../main/ui/ui-api';
import { probePath } from '../main/launch/probe-path';

afterEach(killAll);

/**
 * A port nothing listens on now, for a target's inspector (--inspect-port): tests elsewhere
 * may hold 9229 meanwhile.
 */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether the target itself listens on `port` (read from /proc: no connection is made). */
const listensOn = (pid: number, port: number): boolean => tcpListenersOf(pid).some((l) => l.port === port);

/** Watches for `ms`: true if the target listened on `port` at any look. */
async function listenedWithin(pid: number, port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (listensOn(pid, port)) return true;
    await sleep(20);
  }
  return false;
}

/**
 * The racing client (fixtures/inspector-racer.js), as another user where the tests run as root
 * (as the attacker was), killed after the test.
 */
async function startRacer(port: number, holdMs: number): Promise<{ child: ChildProcess; stdout: () => string }> {
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const child = spawn(process.execPath, [join(FIXTURES, 'inspector-racer.js')], { ...asNobody, env: { HOLD_MS: String(holdMs), PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  racers.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  await eventually(() => out.includes('ready'), 5000);
  return { child, stdout: () => out };
}
const racers: ChildProcess[] = [];
afterEach(() => {
  for (const r of racers.splice(0)) r.kill('SIGKILL');
});

/** ms the target's HTTP server takes to answer one request. */
function answerMs(target: Target, port: number): Promise<number> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(Date.now() - began));
    }).on('error', (err) => {
      const how = target.alive() ? 'runs' : `exited (code ${target.child.exitCode}, signal ${target.child.signalCode})`;
      reject(new Error(`${err.message}; the target ${how}, its stderr: ${target.stderr()}`));
    }).end();
  });
}

/** CPU time a process has used, all its threads, ms (USER_HZ is 100). */
function cpuMs(pid: number): number {
  const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return (stat.userTicks + stat.systemTicks) * 10;
}

const opened = (stderr: string): number => stderr.split('\n').filter((l) => l.startsWith('Debugger listening on ')).length;

describe('attach and the inspector', () => {
  for (const busyIn of ['timer', 'io'] as const) {
    it(`leaves no inspector open on a target whose loop is busy 450 ms of every 500 ms (in ${busyIn === 'io' ? 'an I/O' : 'a timer'} callback)`, async () => {
      // Today's close lands inside the busy stretch in most attaches (the whole attach takes
      // ~50 ms): four attaches make it near certain that one of them would have reopened.
      const port = await freePort();
      const target = await startTarget('attach-busy.js', { nodeArgs: [`--inspect-port=${port}`], env: { BUSY_IN: busyIn, BUSY_MS: '450', PERIOD_MS: '500' } });
      const attaches = 4;
      for (let i = 0; i < attaches; i++) {
        const r = await loopscope(['attach', String(target.pid), '--duration', '0.5', '--json']);
        expect(r.code).toBe(0);
        const summary = JSON.parse(r.stdout);
        expect(summary.warnings).toEqual([]);
        expect(summary.attach.inspector).toMatchObject({ port, wasOpen: false, closed: true });
        // Closed, and it stays closed: the wake-up that SIGUSR1 left pending has been used up.
        expect(listensOn(target.pid, port)).toBe(false);
        expect(await listenedWithin(target.pid, port, 1500)).toBe(false);
      }
      // Each attach closes it at once; the pending wake-up may open it once more, and the
      // target itself closes that again at its next loop turn.
      expect(opened(target.stderr())).toBeGreaterThanOrEqual(attaches);
      expect(opened(target.stderr())).toBeLessThanOrEqual(2 * attaches);
      expect(target.alive()).toBe(true);
    });
  }

  it('reports another client that holds a session on the inspector, and does not freeze the target for it', async () => {
    const port = await freePort();
    const target = await startTarget('attach-app.js', { nodeArgs: [`--inspect-port=${port}`], env: { PORT: '0' } });
    const httpPort = Number(/port (\d+)/.exec(target.readyLine)![1]);
    const racer = await startRacer(port, 8000);
    const r = await loopscope(['attach', String(target.pid), '--duration', '1', '--json']);
    expect(racer.stdout()).toMatch(/^ready\nsession \d+\n/);
    expect(r.code, r.stderr).toBe(15);
    const summary = JSON.parse(r.stdout);
    const { inspector } = summary.attach;
    expect(inspector).toMatchObject({ wasOpen: false, closed: false });
    expect(inspector.otherClients).toHaveLength(1);
    if (process.getuid?.() === 0) expect(inspector.otherClients[0].pid).toBe(racer.child.pid);
    expect(r.stderr).toMatch(/warning: while loopscope had the inspector of process \d+ open[^\n]*, another client connected to it/);
    expect(racer.stdout()).not.toContain('let go');
    if (inspector.state === 'open') {
      // It was connected when the target checked, before closing: the target left the
      // inspector open rather than wait for it, and its loop runs on.
      expect(racer.stdout()).toContain(`evaluated ${target.pid}`); // the window let it run code
      expect(summary.warnings.join('\n')).toMatch(new RegExp(`still listens on 127\\.0\\.0\\.1:${port}: loopscope did not close it, since Node would freeze the process`));
      expect(await answerMs(target, httpPort)).toBeLessThan(1000);
    } else {
      // It connected within the few ms the target's check took (a loaded machine): Node's close
      // now waits for it, and attach says so.
      expect(inspector.state).toBe('stuck');
      expect(summary.warnings.join('\n')).toMatch(/is frozen: it closed its inspector, but Node waits, with no time limit, for the other client's session to end/);
    }
    // Once it lets go, the inspector closes (the background loopscope's work, or Node's close ends).
    expect(await eventually(() => racer.stdout().includes('let go'), 10_000)).toBe(true);
    expect(await eventually(() => !listensOn(target.pid, port), 5000)).toBe(true);
    expect(await answerMs(target, httpPort)).toBeLessThan(1000);
    expect(target.alive()).toBe(true);
  });

  it('reports another client that ran code and was gone before the close, from the connection it left in the socket tables', async () => {
    const port = await freePort();
    const target = await startTarget('attach-app.js', { nodeArgs: [`--inspect-port=${port}`] });
    const racer = await startRacer(port, 0);
    const r = await loopscope(['attach', String(target.pid), '--duration', '1', '--json']);
    expect(racer.stdout()).toMatch(/^ready\nsession \d+\nevaluated \d+\nlet go\n$/);
    expect(r.code, r.stderr).toBe(15);
    const { inspector } = JSON.parse(r.stdout).attach as { inspector: { otherClients: unknown[]; cameAndWent: { port: number }[] } };
    // Seen connected at the close, or gone by then: told either way, never missed.
    const sessionPort = Number(/session (\d+)/.exec(racer.stdout())![1]);
    expect([...inspector.otherClients.map((c) => (c as { port: number }).port), ...inspector.cameAndWent.map((c) => c.port)]).toContain(sessionPort);
    expect(r.stderr).toMatch(/another client connected to it|connections? that (was|were) not this loopscope's came and went/);
    expect(target.alive()).toBe(true);
  });

  it('shows the window how each process attaches, and the warnings of an attach', async () => {
    const port = await freePort();
    const target = await startTarget('attach-app.js', { nodeArgs: [`--inspect-port=${port}`] });
    const dormant = await startTarget('attach-app.js', { nodeOptions: `--require ${probePath()}` });
    await startRacer(port, 6000);
    const backend = await UiBackend.start();
    try {
      const list = await backend.listProcesses();
      expect(list.find((p) => p.pid === target.pid)).toMatchObject({ attachable: true, via: 'inspector' });
      expect(list.find((p) => p.pid === dormant.pid)).toMatchObject({ attachable: true, via: 'probe' });
      const views: SessionView[] = [];
      backend.subscribe((events) => {
        for (const e of events) if (e.kind === 'session') views.push(e.view);
      });
      const id = await backend.attach(target.pid);
      expect(await eventually(() => views.some((v) => v.id === id && v.warnings.length > 0), 3000)).toBe(true);
      expect(views.filter((v) => v.id === id).at(-1)!.warnings.join('\n')).toMatch(/another client connected to it/);
    } finally {
      await backend.shutdown();
    }
  });

  it('says that an app with its own SIGUSR1 listener probably took the signal, and leaves only a cheap closer behind', async () => {
    const target = await startTarget('attach-own-sigusr1.js', { nodeArgs: [`--inspect-port=${await freePort()}`] });
    const r = await loopscope(['attach', String(target.pid), '--timeout', '1']);
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/its inspector did not open within 1\.0 s; its main thread is waiting for events, so the program most likely handles SIGUSR1 itself .*dormant probe/);
    expect(r.stderr).toMatch(/a background loopscope .* will close it/);
    // Its own handler ran, and Node's (the inspector) did not.
    expect(await eventually(() => target.stdout().includes('got SIGUSR1'), 2000)).toBe(true);
    expect(target.stderr()).toBe('');
    // The background closer waits for an inspector that may still open, for 2 minutes: cheaply.
    const closer = listPids().find((p) => commandLineOf(p)?.includes(`_close-inspector ${target.pid} `));
    expect(closer).toBeDefined();
    try {
      // It used 7% of a core (a socket table read 10 times a second); now under 1%. In 3 s
      // windows: its start (loading loopscope, slow on a loaded machine) is not its waiting.
      const windows: number[] = [];
      while (windows.length < 5 && !(windows.at(-1)! < 90)) {
        const before = cpuMs(closer!);
        await sleep(3000);
        windows.push(cpuMs(closer!) - before);
      }
      expect(windows.at(-1), windows.join(', ')).toBeLessThan(90);
    } finally {
      process.kill(closer!, 'SIGKILL');
    }
  }, 45_000);

  it('leaves the port it watches alone while another process\'s inspector listens there, which would count that as a client', async () => {
    const port = await freePort();
    const waiting = await startTarget('attach-app.js'); // its inspector never opens
    const other = await startTarget('attach-app.js', { nodeArgs: [`--inspect=127.0.0.1:${port}`] });
    expect(await eventually(() => /Debugger listening/.test(other.stderr()), 5000)).toBe(true);
    const r = await loopscope(lateCloseArgs({ pid: waiting.pid, host: '127.0.0.1', port, knownPorts: [], untilMs: Date.now() + 2500 }));
    expect(r.code).toBe(1); // it gave up: that inspector never opened
    // It knocked on the port 4 times a second, and each knock was a connection to the other's inspector.
    expect(clientEndsSeenBy(other.pid, '127.0.0.1', port)).toEqual([]);
  });
});
