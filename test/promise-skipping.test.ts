// Promises in tasks mode, on every supported Node line: without --promises Node's promise
// hooks are not installed for loopscope's hook (probe/promise-skipping.ts), whatever the app's
// own AsyncLocalStorage, APM-like hook and v8.promiseHooks do before or after it; with
// --promises they are. In trace mode, where the app's hook has Node call every hook for
// promises, none of their events is sent. A real target (test/fixtures/promise-scenarios.js) plays the app and
// observes Node's promise hooks itself; loopscope's hook comes and goes by reconfiguring the
// probe over its real socket.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { FIXTURES, REPO, runProbed, waitFor, type ProbedRun } from './helpers/probe-harness';
import { NODE_VERSIONS, otherNode } from './helpers/node-versions';
import type { ProbeConnection } from '../main/server/probe-server';
import { TaskEventKind, type PromiseSkipping } from '../probe/wire';

/** What the fixture saw after a step: Node's promise before and init hooks installed or not. */
interface Seen {
  readonly step: string;
  readonly before: boolean;
  readonly init: boolean;
  readonly alsWorks?: boolean;
  readonly apmPromiseInits?: number;
  readonly appPromiseInits?: number;
  readonly error?: string;
}

const NON_PROMISE_TYPES = ['Timeout', 'Immediate', 'TickObject', 'FSREQCALLBACK', 'TCPWRAP', 'TCPCONNECTWRAP', 'TCPSERVERWRAP'];

class App {
  private answered = 0;

  private constructor(readonly run: ProbedRun, private readonly connection: ProbeConnection, private readonly promises: boolean) {}

  static async start(node: string, promises: boolean, nodeArgs: readonly string[]): Promise<App> {
    const run = await runProbed('promise-scenarios.js', {}, { mode: 'metrics', promises, intervalMs: 20 }, { node, nodeArgs, stdin: true, captureStderr: true });
    const connection = await run.connection;
    const app = new App(run, connection, promises);
    await waitFor(() => app.lines().some((l) => l.step === 'ready'), 'the fixture to start');
    app.answered = app.lines().length;
    return app;
  }

  private lines(): Seen[] {
    return this.run.stdout.map((l) => JSON.parse(l) as Seen);
  }

  /** Has the app do one step, and returns what it saw afterwards. */
  async step(name: string): Promise<Seen> {
    this.run.child.stdin!.write(`${name}\n`);
    await waitFor(() => this.lines().length > this.answered, `the fixture's answer to ${name}`);
    const seen = this.lines()[this.answered++]!;
    expect(seen.error, `${name} failed in the fixture`).toBeUndefined();
    expect(seen.step).toBe(name);
    return seen;
  }

  private count(type: 'tasks' | 'metrics'): number {
    return this.run.messages.filter((m) => m.type === type).length;
  }

  /** Two more tasks samples: the probe has shed at least once since whatever the app did last. */
  async shed(): Promise<void> {
    const seen = this.count('tasks');
    await waitFor(() => this.count('tasks') >= seen + 2, 'two more tasks samples');
  }

  /** loopscope's hook on (tasks or trace mode) or off (metrics mode), and settled. */
  async ours(on: boolean, mode: 'tasks' | 'trace' = 'tasks'): Promise<void> {
    this.connection.configure({ mode: on ? mode : 'metrics', promises: this.promises });
    if (on) return this.shed();
    // Off once two metrics samples came with no tasks sample after them.
    await waitFor(() => {
      const last = this.run.messages.map((m) => m.type).lastIndexOf('tasks');
      return this.run.messages.slice(last + 1).filter((m) => m.type === 'metrics').length >= 2;
    }, 'tasks mode to end');
  }

  /** loopscope dies: its end of the socket goes, with no word to the probe. */
  async loopscopeDies(): Promise<void> {
    this.connection.destroy();
    await this.run.closed;
  }

  /** Asks until Node's promise hooks are gone (the probe stops on its own clock), or fails. */
  async untilNotInstalled(what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    let seen = await this.step('installed');
    while ((seen.before || seen.init) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await this.step('installed');
    }
    expect(seen, what).toMatchObject(notInstalled);
  }

  latestTasks(): NonNullable<ReturnType<ProbedRun['state']>['tasks']['latest']> {
    const latest = this.run.state().tasks.latest;
    expect(latest, 'a tasks sample').toBeDefined();
    return latest!;
  }

  async end(): Promise<void> {
    this.run.child.stdin!.write('exit\n');
    await this.run.exit;
    await this.run.server.close();
    expect(this.run.stderr.join(''), "the target's stderr").toBe('');
  }
}

let running: App | undefined;
afterEach(async () => {
  running?.run.child.kill('SIGKILL');
  await running?.run.server.close();
  running = undefined;
});

/** Which mechanism each tested Node offers (the probe finds it by feature tests, not versions). */
const EXPECTED: Record<string, PromiseSkipping> = {
  [NODE_VERSIONS[18]]: 'inspector',
  [NODE_VERSIONS[20]]: 'inspector',
  [NODE_VERSIONS[22]]: 'kNoPromiseHook',
  [NODE_VERSIONS[24]]: 'trackPromises',
  [NODE_VERSIONS[26]]: 'trackPromises',
};
/** On Node 24 and later AsyncLocalStorage is no async hook unless asked: ask, to test with one. */
const nodeArgsFor = (version: string): string[] => (Number(version.split('.')[0]) >= 24 ? ['--no-async-context-frame'] : []);

const notInstalled = { before: false, init: false };

describe.each(Object.values(NODE_VERSIONS))('tasks mode on Node %s', (version) => {
  it(`installs no promise hook for loopscope (${EXPECTED[version]}), with the app's own hooks coming and going`, async (ctx) => {
    const other = await otherNode(version);
    if ('reason' in other) return ctx.skip(`no Node ${version}: ${other.reason}`);
    const app = (running = await App.start(other.node, false, nodeArgsFor(version)));

    // A. Only ours: every other resource type seen, no promise hook installed, and none after.
    expect(await app.step('installed')).toMatchObject(notInstalled);
    await app.ours(true);
    expect(await app.step('work'), 'A: only ours on').toMatchObject(notInstalled);
    await app.shed();
    expect(app.latestTasks().promiseSkipping).toBe(EXPECTED[version]);
    expect(app.latestTasks().promisesTracked).toBe(false);
    const types = Object.keys(app.run.state().tasks.byType);
    expect(types).toEqual(expect.arrayContaining(NON_PROMISE_TYPES));
    expect(types).not.toContain('PROMISE');
    await app.ours(false);
    expect(await app.step('installed'), 'A: ours off').toMatchObject(notInstalled);

    // B. The app's AsyncLocalStorage first, then ours: it keeps its store; the promise hooks stay as the app has them.
    const alsAlone = await app.step('als-run');
    expect(alsAlone.alsWorks).toBe(true);
    await app.ours(true);
    expect(await app.step('als-run'), 'B: ALS with ours').toMatchObject({ alsWorks: true, before: alsAlone.before, init: alsAlone.init });
    await app.ours(false);
    expect(await app.step('als-run'), 'B: ALS after ours').toMatchObject({ alsWorks: true, before: alsAlone.before, init: alsAlone.init });
    await app.step('als-off');

    // C. Ours first, then the app's ALS, which goes off while ours stays: no promise hook left.
    await app.ours(true);
    expect((await app.step('als-run')).alsWorks).toBe(true);
    await app.step('als-off');
    await app.shed();
    expect(await app.step('installed'), 'C: ALS off, ours on').toMatchObject(notInstalled);
    expect((await app.step('als-run')).alsWorks, 'C: ALS again').toBe(true);
    await app.step('als-off');
    await app.shed();
    await app.ours(false);
    expect(await app.step('installed'), 'C: ours off').toMatchObject(notInstalled);

    // D. An APM-like hook that wants promises first: it gets them with ours, and after.
    await app.step('apm-on');
    expect((await app.step('apm-check')).apmPromiseInits).toBeGreaterThan(0);
    await app.ours(true);
    expect((await app.step('apm-check')).apmPromiseInits, 'D: APM with ours').toBeGreaterThan(0);
    await app.ours(false);
    expect((await app.step('apm-check')).apmPromiseInits, 'D: APM after ours').toBeGreaterThan(0);
    expect(await app.step('apm-off'), 'D: APM off').toMatchObject(notInstalled);

    // E. Ours first, then the APM hook, off and on again while ours stays.
    await app.ours(true);
    await app.step('apm-on');
    expect((await app.step('apm-check')).apmPromiseInits, 'E: APM after ours').toBeGreaterThan(0);
    await app.step('apm-off');
    await app.shed();
    expect(await app.step('installed'), 'E: APM off, ours on').toMatchObject(notInstalled);
    await app.step('apm-on');
    expect((await app.step('apm-check')).apmPromiseInits, 'E: APM again').toBeGreaterThan(0);
    // Ours goes first this time: the APM hook keeps its promises.
    await app.ours(false);
    expect((await app.step('apm-check')).apmPromiseInits, 'E: APM after ours').toBeGreaterThan(0);
    expect(await app.step('apm-off'), 'E: APM off').toMatchObject(notInstalled);

    // F. The app's own v8.promiseHooks hook keeps its inits with ours on and after.
    await app.step('v8-on');
    expect((await app.step('v8-check')).appPromiseInits).toBeGreaterThan(0);
    await app.ours(true);
    expect(await app.step('v8-check'), 'F: with ours').toMatchObject({ before: false });
    expect((await app.step('v8-check')).appPromiseInits).toBeGreaterThan(0);
    await app.ours(false);
    expect((await app.step('v8-check')).appPromiseInits, 'F: after ours').toBeGreaterThan(0);
    await app.step('v8-off');

    await app.end();
  });
});

describe.each([NODE_VERSIONS[20], NODE_VERSIONS[22], NODE_VERSIONS[26]])('trace mode on Node %s', (version) => {
  it("sends no promise's events while the app's own hook has Node call every hook for promises", async (ctx) => {
    const other = await otherNode(version);
    if ('reason' in other) return ctx.skip(`no Node ${version}: ${other.reason}`);
    const app = (running = await App.start(other.node, false, nodeArgsFor(version)));
    await app.step('apm-on');
    await app.ours(true, 'trace');
    const from = app.run.messages.length;
    // 200 awaits and more, and a timer, an immediate, a tick, a file stat and a connection.
    await app.step('work');
    await app.shed();
    const made = new Set<number>();
    const types = new Set<string>();
    let befores = 0;
    let beforesOfUnknown = 0;
    for (const m of app.run.messages.slice(from)) {
      if (m.type !== 'taskEvents') continue;
      const b = m.batch;
      for (let i = 0; i < b.count; i++) {
        if (b.kinds[i] === TaskEventKind.init) {
          made.add(b.asyncIds[i]!);
          types.add(b.types.get(b.typeIds[i]!)!);
        } else if (b.kinds[i] === TaskEventKind.before) {
          befores++;
          if (!made.has(b.asyncIds[i]!)) beforesOfUnknown++;
        }
      }
    }
    expect([...types]).toEqual(expect.arrayContaining(NON_PROMISE_TYPES));
    expect(types).not.toContain('PROMISE');
    // A promise's callbacks would be hundreds here; what is left are resources made before trace mode (stdin's).
    expect(befores).toBeGreaterThan(10);
    expect(beforesOfUnknown, `${beforesOfUnknown} of ${befores} callbacks of resources not seen made`).toBeLessThan(10);
    expect((await app.step('apm-check')).apmPromiseInits, 'the APM hook keeps its promises').toBeGreaterThan(0);
    await app.ours(false);
    await app.step('apm-off');
    await app.end();
  });
});

describe.each([NODE_VERSIONS[20], NODE_VERSIONS[22]])('tasks mode with --promises on Node %s', (version) => {
  it('tracks promises, and leaves no promise hook behind', async (ctx) => {
    const other = await otherNode(version);
    if ('reason' in other) return ctx.skip(`no Node ${version}: ${other.reason}`);
    const app = (running = await App.start(other.node, true, []));
    await app.ours(true);
    expect(await app.step('work')).toMatchObject({ before: true, init: true });
    await app.shed();
    expect(app.latestTasks()).toMatchObject({ promisesTracked: true });
    expect(app.latestTasks().promiseSkipping).toBeUndefined();
    expect(app.run.state().tasks.byType['PROMISE']?.created).toBeGreaterThan(200);
    // With the app's ALS and APM hook too, and both gone again.
    expect((await app.step('als-run')).alsWorks).toBe(true);
    await app.step('apm-on');
    expect((await app.step('apm-check')).apmPromiseInits).toBeGreaterThan(0);
    await app.step('apm-off');
    await app.step('als-off');
    await app.ours(false);
    expect(await app.step('installed')).toMatchObject(notInstalled);
    await app.end();
  });
});

describe.each([NODE_VERSIONS[20], NODE_VERSIONS[22], NODE_VERSIONS[26]])('loopscope dying in tasks mode on Node %s', (version) => {
  it("leaves the app's own hooks their promises, and no promise hook once they are off", async (ctx) => {
    const other = await otherNode(version);
    if ('reason' in other) return ctx.skip(`no Node ${version}: ${other.reason}`);
    const app = (running = await App.start(other.node, false, nodeArgsFor(version)));
    // Ours first, then the app's APM hook and ALS; shed once with them on.
    await app.ours(true);
    await app.step('apm-on');
    expect((await app.step('als-run')).alsWorks).toBe(true);
    await app.shed();
    await app.loopscopeDies();
    expect((await app.step('apm-check')).apmPromiseInits, 'APM after loopscope died').toBeGreaterThan(0);
    expect((await app.step('als-run')).alsWorks, 'ALS after loopscope died').toBe(true);
    // With no interval left to shed at, Node's own bookkeeping must take the promise hook away.
    await app.step('apm-off');
    await app.step('als-off');
    await app.untilNotInstalled('the app\'s hooks off after loopscope died');
    await app.end();
  });
});

// The probe's promise module alone, bundled as the probe bundles it, in a fixture that counts
// what reaches its hook: Node tracks each promise's destruction for any hook with `destroy`
// when an app hook is enabled after it, unless shed() has Node rebuild its promise hook.
const bundleDir = mkdtempSync(join(tmpdir(), 'loopscope-promise-skipping-'));
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));
let built: string | undefined;
const bundled = (): string => {
  if (built) return built;
  const out = join(bundleDir, 'promise-skipping.js');
  buildSync({ entryPoints: [join(REPO, 'probe', 'promise-skipping.ts')], outfile: out, bundle: true, platform: 'node', format: 'cjs', target: 'node18', logLevel: 'warning' });
  return (built = out);
};

describe.each([NODE_VERSIONS[20], NODE_VERSIONS[22], NODE_VERSIONS[26]])('the hook on Node %s, with an app hook enabled after it', (version) => {
  it('has Node track no promise\'s destruction for it once it has shed, and leaves the app its promises', async (ctx) => {
    const other = await otherNode(version);
    if ('reason' in other) return ctx.skip(`no Node ${version}: ${other.reason}`);
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(other.node, ['--expose-gc', join(FIXTURES, 'promise-destroys.js')], { env: { ...process.env, PROMISE_SKIPPING: bundled() }, timeout: 30_000 },
        (err, out, errOut) => (err ? reject(err) : resolve({ stdout: out, stderr: errOut })));
    });
    expect(stderr).toBe('');
    const seen = JSON.parse(stdout) as { skipping: string; beforeShed: number; afterShed: number; appWithOurs: number; appAfterOurs: number };
    expect(seen.skipping).toBe(EXPECTED[version]);
    // About two promises an await: each one's destroy reached our hook until it shed.
    expect(seen.beforeShed).toBeGreaterThan(1000);
    expect(seen.afterShed).toBeLessThan(50);
    expect(seen.appWithOurs).toBeGreaterThan(1000);
    expect(seen.appAfterOurs).toBeGreaterThan(1000);
  });
});
