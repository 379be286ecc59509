// The launched program's own loop is the session's first, even when a process it started says
// hello first (a CI run saw the child taken for the program, and the program's workers listed
// under it). The rule in plain data, /proc's answer on real processes, and `run` and the
// window's launch with a real program whose own probe comes after its child's, or never.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchedRunsNode, LaunchedRoot } from '../main/launch/launched-root';
import { probePath } from '../main/launch/probe-path';
import type { Summary } from '../main/reports/summary';
import type { SessionView } from '../main/ui/ui-api';
import { UiBackend } from '../main/ui/ui-backend';
import { loopscope } from './helpers/cli';
import { FIXTURES } from './helpers/probe-harness';

interface FakeLoop {
  readonly hello: { readonly pid: number; readonly threadId: number };
}
const loop = (pid: number, threadId = 0): FakeLoop => ({ hello: { pid, threadId } });

function picker(runsNode: boolean | undefined, waitMs = 60_000) {
  const settled: { root: FakeLoop; earlier: readonly FakeLoop[] }[] = [];
  const root = new LaunchedRoot<FakeLoop>(() => 100, (r, earlier) => settled.push({ root: r, earlier }), () => runsNode, waitMs);
  return { root, settled };
}

describe('which loop is the launched program\'s', () => {
  it('its own main thread, at once', () => {
    const { root, settled } = picker(true);
    const own = loop(100);
    root.offer(own);
    expect(settled).toEqual([{ root: own, earlier: [] }]);
    expect(root.settled).toBe(true);
  });

  it('a child that came first waits for it, and comes after it', () => {
    const { root, settled } = picker(true);
    const child = loop(200);
    const childWorker = loop(200, 1);
    root.offer(child);
    root.offer(childWorker);
    expect(settled).toEqual([]);
    const own = loop(100);
    root.offer(own);
    expect(settled).toEqual([{ root: own, earlier: [child, childWorker] }]);
  });

  it('the first main thread below a launched process that is not Node (a shell): at once', () => {
    const { root, settled } = picker(false);
    const worker = loop(200, 1);
    root.offer(worker);
    expect(settled).toEqual([]);
    const first = loop(200);
    root.offer(first);
    expect(settled).toEqual([{ root: first, earlier: [worker] }]);
  });

  it('where /proc cannot say, or the program\'s own probe never comes: the first main thread, after the wait', async () => {
    const { root, settled } = picker(undefined, 30);
    const child = loop(200);
    root.offer(loop(300, 2));
    root.offer(child);
    expect(settled).toEqual([]);
    await expect.poll(() => settled.length).toBe(1);
    expect(settled[0]!.root).toBe(child);
    expect(settled[0]!.earlier).toEqual([loop(300, 2)]);
  });

  it('when only other threads came, the first of them, after the wait', async () => {
    const { root, settled } = picker(true, 30);
    const worker = loop(200, 1);
    const other = loop(300, 2);
    root.offer(worker);
    root.offer(other);
    await expect.poll(() => settled.length).toBe(1);
    expect(settled[0]).toEqual({ root: worker, earlier: [other] });
  });

  it('the launched process ended: at once, the first main thread held, else the first loop held', () => {
    const { root, settled } = picker(true);
    root.settleNow();
    expect(settled).toEqual([]);
    expect(root.settled).toBe(false);
    const worker = loop(200, 1);
    const child = loop(200);
    root.offer(worker);
    root.offer(child);
    root.settleNow();
    expect(settled).toEqual([{ root: child, earlier: [worker] }]);
    root.settleNow();
    expect(settled).toHaveLength(1);

    const second = picker(true);
    second.root.offer(worker);
    second.root.settleNow();
    expect(second.settled).toEqual([{ root: worker, earlier: [] }]);
  });

  it('a failed launch hands back what it held, to be closed', () => {
    const { root, settled } = picker(true);
    const child = loop(200);
    root.offer(child);
    expect(root.dispose()).toEqual([child]);
    expect(settled).toEqual([]);
  });
});

describe('whether the launched process runs Node (/proc)', () => {
  it('says yes for a Node process, no for another program, and nothing for one that is gone', async () => {
    expect(launchedRunsNode(process.pid, process.pid)).toBe(true);
    const sleeper = spawn('sleep', ['5']);
    try {
      expect(launchedRunsNode(sleeper.pid!, process.pid)).toBe(false);
    } finally {
      sleeper.kill('SIGKILL');
    }
    await new Promise((r) => sleeper.once('exit', r));
    expect(launchedRunsNode(sleeper.pid!, process.pid)).toBeUndefined();
  });
});

describe('a program whose child says hello first', () => {
  // `env -u` execs Node in the launched process itself: the PID loopscope started is the program's.
  const command = ['env', '-u', 'NODE_OPTIONS', process.execPath, join(FIXTURES, 'late-root.js'), probePath()];

  it('run: the summary is the program\'s, and its child is the second loop', async () => {
    const run = await loopscope(['run', '--json', '--', ...command]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.loops.map((l) => ({ pid: l.pid, threadId: l.threadId }))).toEqual([
      { pid: summary.pid, threadId: 0 },
      { pid: summary.loops[1]!.pid, threadId: 0 },
    ]);
    expect(summary.loops[1]!.ppid).toBe(summary.pid);
  }, 30_000);

  /**
   * `run --record` of the program whose child blocks 100 ms after its start, while its loop waits
   * for the program's hello: the child's loop, `childLoop` of the live summary, has that block,
   * and the file's loops are the live ones.
   */
  async function recordsTheChild(env: Record<string, string>, childLoop: (live: Summary) => { readonly blocked: Summary['blocked'] }): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-late-root-'));
    try {
      const file = join(dir, 'late-root.lsrec');
      const run = await loopscope(['run', '--json', '--record', file, '--', ...command], { CHILD_BLOCK_MS: '150', ...env });
      expect(run.code).toBe(0);
      const live = JSON.parse(run.stdout) as Summary;
      expect(childLoop(live).blocked.map((b) => b.stack.find((f) => f.functionName === 'childBlock')?.lineNumber)).toContain(18);
      const recorded = await loopscope(['summary', '--json', file]);
      expect(recorded.code).toBe(0);
      const fromFile = JSON.parse(recorded.stdout) as Summary;
      expect(fromFile.warnings).toEqual([]);
      expect(fromFile.loops).toEqual(live.loops);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('run --record: the file holds the child from its hello, its early block too, after the program\'s loop', async () => {
    await recordsTheChild({}, (live) => live.loops[1]!);
  }, 30_000);

  it('run --record: a program that ends without a hello of its own leaves the file to its child, from its hello', async () => {
    // The child is the session: its loop is the top level.
    await recordsTheChild({ OWN_PROBE: 'no' }, (live) => live);
  }, 30_000);

  it('run: a program that ends without a hello of its own leaves the session to its child', async () => {
    const run = await loopscope(['run', '--json', '--', ...command], { OWN_PROBE: 'no' });
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.warnings).toEqual([]);
    expect(summary.command.at(-1)).toBe('child');
    expect(summary.loops.map((l) => ({ pid: l.pid, threadId: l.threadId }))).toEqual([{ pid: summary.pid, threadId: 0 }]);
  }, 30_000);

  describe('the window\'s launch', () => {
    let backend: UiBackend;
    beforeAll(async () => {
      backend = await UiBackend.start();
    });
    afterAll(() => backend.shutdown());

    it('the session is the program\'s, and lists its processes, the program first', async () => {
      const views = new Map<string, SessionView>();
      const unsubscribe = backend.subscribe((events) => {
        for (const e of events) if (e.kind === 'session') views.set(e.view.id, e.view);
      });
      try {
        const id = await backend.launch(command, {}, { env: { LIVE_MS: '4000' } });
        const processes = () => views.get(id)?.loops ?? [];
        await expect.poll(() => processes().length, { timeout: 10_000 }).toBe(2);
        const [program, child] = processes();
        expect(program!.pid).toBe(views.get(id)!.pid);
        expect(child!.ppid).toBe(program!.pid);
      } finally {
        unsubscribe();
      }
    }, 30_000);

    it('a program that ends without a hello of its own: the launch is its child\'s', async () => {
      const views = new Map<string, SessionView>();
      const unsubscribe = backend.subscribe((events) => {
        for (const e of events) if (e.kind === 'session') views.set(e.view.id, e.view);
      });
      try {
        const id = await backend.launch(command, {}, { env: { OWN_PROBE: 'no' } });
        await expect.poll(() => views.get(id)?.loops.length ?? 0, { timeout: 10_000 }).toBe(1);
        expect(views.get(id)!.command.at(-1)).toBe('child');
      } finally {
        unsubscribe();
      }
    }, 30_000);
  });
});
