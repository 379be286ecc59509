// The pieces of "every loop" that need no target: who may join a session, how workers are
// named, when a worker is up for the probe (a real worker, on each Node), the loops of a summary and of the live view; and the probe server refusing a
// session token shown by a process the command did not start (a real server, a real probe).

import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { isDescendant, descendantsOf } from '../main/attach/session-members';
import { parseWorkerTitle } from '../probe/node-workers';
import { injectWorkerExpression, runningExpression } from '../probe/worker-follow';
import { NODE_VERSIONS, otherNode } from './helpers/node-versions';
import { createContext, runInContext } from 'node:vm';
import { loopName } from '../main/session/loop-identity';
import { startProbeServer, type ProbeConnection } from '../main/server/probe-server';
import { connect, type Socket } from 'node:net';
import { PROTOCOL_VERSION, type Hello } from '../probe/wire';
import { encodeHello } from '../probe/wire-json';
import { launch } from '../main/launch/launch';
import { probePath } from '../main/launch/probe-path';
import { FIXTURES, waitFor } from './helpers/probe-harness';
import { join } from 'node:path';

describe('session members', () => {
  const parents = new Map([[30, 20], [20, 10], [10, 1], [40, 1]]);
  const parentOf = (pid: number): number | undefined => parents.get(pid);

  it('admits the launched process and its descendants at any depth, and nothing else', () => {
    expect(isDescendant(10, 10, parentOf)).toBe(true);
    expect(isDescendant(30, 10, parentOf)).toBe(true);
    expect(isDescendant(40, 10, parentOf)).toBe(false);
    expect(isDescendant(99, 10, parentOf)).toBe(false); // unknown parent
    const loop = new Map([[5, 6], [6, 5]]);
    expect(isDescendant(5, 10, (p) => loop.get(p))).toBe(false); // a cycle ends
  });

  it('says why a hello is refused', () => {
    const check = descendantsOf(() => 10, parentOf);
    const hello = (pid: number) => ({ pid }) as Parameters<typeof check>[0];
    if (process.platform !== 'linux') return;
    expect(check(hello(30))).toBeUndefined();
    expect(check(hello(40))).toBe('process 40 is not one the command started (its parent is 1)');
    expect(descendantsOf(() => undefined)(hello(30))).toBe('the command has not started');
  });

  it('a real probe showing the session token from outside the command\'s tree is refused', async () => {
    const server = await startProbeServer();
    const stranger = spawn('sleep', ['30']);
    try {
      const { token } = server.issueSessionToken(descendantsOf(() => stranger.pid));
      const refused = new Promise<string>((resolve) => server.onRejected(resolve));
      let admitted = false;
      server.onConnection(() => (admitted = true));
      const child = launch({
        command: process.execPath, args: [join(FIXTURES, 'idle.js')], probeFile: probePath(), socketPath: server.address, token,
        config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, stdio: 'ignore',
      });
      expect(await refused).toMatch(new RegExp(`^process ${child.pid} is not one the command started`));
      expect(admitted).toBe(false);
      child.kill('SIGKILL');
    } finally {
      stranger.kill('SIGKILL');
      await server.close();
    }
  });
});

describe('the loops one session token admits', () => {
  it('are as many at once as the session takes: one more is refused until one has gone', async () => {
    const server = await startProbeServer();
    const sockets: Socket[] = [];
    try {
      const { token } = server.issueSessionToken(() => undefined, 2);
      const refusals: string[] = [];
      server.onRejected((r) => refusals.push(r));
      const admitted: ProbeConnection[] = [];
      server.onConnection((c) => admitted.push(c));
      const hello: Hello = {
        protocol: PROTOCOL_VERSION, token, probeVersion: '0.1.0', pid: process.pid, ppid: 1, nodeVersion: process.version, platform: 'linux', arch: 'x64',
        argv: [], execArgv: [], title: 'node', cwd: '/', threadId: 0, timeOriginMs: 0, config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, loadedBy: 'preload',
      };
      const loop = (threadId: number): Socket => {
        const socket = connect(server.address);
        socket.on('error', () => undefined);
        socket.write(encodeHello({ ...hello, threadId }));
        sockets.push(socket);
        return socket;
      };
      const first = loop(0);
      loop(1);
      await waitFor(() => admitted.length === 2, 'two loops admitted');
      loop(2);
      await waitFor(() => refusals.length === 1, 'the third refused');
      expect(refusals).toEqual(['the session has 2 loops connected, the most it takes']);
      const gone = new Promise((resolve) => admitted[0]!.on('close', resolve));
      first.destroy();
      await gone;
      loop(3);
      await waitFor(() => admitted.length === 3, 'a loop admitted in the place of the one gone');
      expect(admitted.map((c) => c.hello.threadId)).toEqual([0, 1, 3]);
    } finally {
      for (const s of sockets) s.destroy();
      await server.close();
    }
  });
});

describe('bringing the probe into a worker', () => {
  // A busy worker serves the evaluation from an interrupt, possibly in the middle of its own
  // require of perf_hooks (CI saw the probe fail there on half-made exports): the probe is
  // loaded only from a promise reaction, with the inspector's require kept from the evaluation.
  it('loads the probe from a promise reaction, never inside the evaluation, and its promise never rejects', async () => {
    const loaded: string[] = [];
    const context = createContext({
      Promise,
      require: (file: string) => (loaded.push(file), { attachWorker: (o: { threadName: string }) => ({ status: 'started', threadName: o.threadName }) }),
    });
    const result = runInContext(injectWorkerExpression('/opt/probe.js', { threadName: 'w"1' }), context) as Promise<unknown>;
    runInContext('delete globalThis.require', context); // the inspector's command-line API ends with the evaluation
    expect(loaded).toEqual([]);
    expect(await result).toEqual({ status: 'started', threadName: 'w"1' });
    expect(loaded).toEqual(['/opt/probe.js']);
    const failing = createContext({ Promise, require: () => ({ attachWorker: () => { throw new Error('half made'); } }) });
    expect(await (runInContext(injectWorkerExpression('/opt/probe.js', {}), failing) as Promise<unknown>)).toEqual({ status: 'failed', error: 'half made' });
  });
});

describe('a worker not known to be up', () => {
  // An evaluation is served inside a worker's start (here, during a slow preload of its own),
  // where the probe's start would break it: a worker not announced online is brought the probe
  // only once this check says it runs its script.
  it.each(Object.keys(NODE_VERSIONS))('Node %s: the check says no while the worker starts, and yes once it runs its script', async (version) => {
    const found = await otherNode(NODE_VERSIONS[version as unknown as keyof typeof NODE_VERSIONS]);
    if ('reason' in found) return void console.warn(`Node ${version}: ${found.reason}`);
    const fixture = join(FIXTURES, 'worker-starting.js');
    const r = spawnSync(found.node, [fixture], { encoding: 'utf8', env: { ...process.env, SLOW_MS: '300', RUNNING_EXPR: runningExpression(fixture) }, timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const answers = JSON.parse(r.stdout) as { running: boolean; preloadEnded: boolean }[];
    // Asked during the start, and told no; then yes, and never before the start ended.
    expect(answers.some((a) => !a.preloadEnded && !a.running)).toBe(true);
    expect(answers.at(-1)).toEqual({ running: true, preloadEnded: true });
    expect(answers.filter((a) => a.running && !a.preloadEnded)).toEqual([]);
  }, 30_000);
});

describe('loop names', () => {
  it('names a worker by thread id and its name option, else its script', () => {
    expect(parseWorkerTitle('[worker 3] cruncher', '')).toEqual({ threadId: 3, name: 'cruncher' });
    expect(parseWorkerTitle('[worker 4] WorkerThread', 'file:///app/my%20worker.js')).toEqual({ threadId: 4, name: '/app/my worker.js' });
    expect(parseWorkerTitle('[worker 5]', 'file:///app/w.js')).toEqual({ threadId: 5, name: '/app/w.js' });
    expect(parseWorkerTitle('something else', '')).toBeUndefined();
    expect(loopName({ threadId: 0 })).toBe('main');
    expect(loopName({ threadId: 3, threadName: 'cruncher' })).toBe('worker 3 cruncher');
    expect(loopName({ threadId: 3 })).toBe('worker 3');
  });
});
