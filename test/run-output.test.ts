// `loopscope run` killed with kill -9 while its target writes every 20 ms: the target must go
// on running and writing. With --json its output goes to loopscope's stderr without passing
// through loopscope; with the live view it writes to the terminal itself, and the view sits
// below a scroll region. The live view runs on a real pseudo-terminal (fixtures/pty-run.py),
// which also carries Ctrl-C and a resize.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = resolve(__dirname, '../bin/loopscope.js');
const CHATTY = resolve(__dirname, 'fixtures/chatty.js');
const PTY = resolve(__dirname, 'fixtures/pty-run.py');
const hasPython = spawnSync('python3', ['-c', 'import pty']).status === 0;

const started: ChildProcess[] = [];
const targets: number[] = [];
afterEach(() => {
  for (const c of started.splice(0)) c.kill('SIGKILL');
  for (const pid of targets.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !check() && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

const lastTick = (text: string): number => Number([...text.matchAll(/tick (\d+)/g)].at(-1)?.[1] ?? 0);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Output collected as it comes. */
function collect(stream: NodeJS.ReadableStream): { text: string } {
  const sink = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => (sink.text += d));
  return sink;
}

/** Waits for the target's pid and a few of its lines in `out`, and registers it for cleanup. */
async function targetOf(out: { text: string }): Promise<number> {
  await waitFor(() => /chatty pid \d+/.test(out.text) && lastTick(out.text) >= 5, 'the target\'s first lines');
  const pid = Number(/chatty pid (\d+)/.exec(out.text)![1]);
  targets.push(pid);
  return pid;
}

/** The target still runs, and writes 25 more lines (half a second's worth) after `from`. */
async function expectStillWriting(out: { text: string }, target: number, from: number): Promise<void> {
  await waitFor(() => lastTick(out.text) >= from + 25, 'the target to go on writing after loopscope died');
  expect(alive(target)).toBe(true);
}

describe('the target of loopscope run does not depend on loopscope for its output', () => {
  it('--json: after kill -9 of loopscope, the target runs on and writes on', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--json', '--', process.execPath, CHATTY], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    const err = collect(child.stderr);
    const target = await targetOf(err);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await expectStillWriting(err, target, lastTick(err.text));
  });

  describe.skipIf(!hasPython)('with the live view, on a terminal', () => {
    async function runOnTerminal(): Promise<{ harness: ChildProcess; out: { text: string }; report: { text: string }; loopscope: number }> {
      const harness = spawn('python3', [PTY, process.execPath, BIN, 'run', '--', process.execPath, CHATTY], { stdio: ['pipe', 'pipe', 'pipe'] });
      started.push(harness);
      const report = collect(harness.stderr!);
      const out = collect(harness.stdout!);
      await waitFor(() => /^pid \d+\n/.test(report.text), 'loopscope to start');
      const loopscope = Number(/^pid (\d+)/.exec(report.text)![1]);
      targets.push(loopscope);
      return { harness, out, report, loopscope };
    }

    it('after kill -9 of loopscope, the target runs on and writes on to the terminal', async () => {
      const { out, report, loopscope } = await runOnTerminal();
      const target = await targetOf(out);
      await waitFor(() => out.text.includes('── loopscope'), 'the live view');
      process.kill(loopscope, 'SIGKILL');
      await waitFor(() => report.text.includes('exit -9'), 'loopscope to die');
      await expectStillWriting(out, target, lastTick(out.text));
      // The view is below a scroll region: the target's lines scroll above it, not through loopscope.
      expect(out.text).toMatch(/\x1b\[1;\d+r/);
    });

    it('follows a resize, and on Ctrl-C stops the target and gives the whole screen back before the summary', async () => {
      const { harness, out, report } = await runOnTerminal();
      const target = await targetOf(out);
      await waitFor(() => out.text.includes('── loopscope'), 'the live view');
      const regions = (): number[] => [...out.text.matchAll(/\x1b\[1;(\d+)r/g)].map((m) => Number(m[1]));
      expect(Math.max(...regions())).toBeLessThan(40);
      harness.kill('SIGUSR1'); // 40 rows become 30
      await waitFor(() => regions().some((bottom) => bottom < 27), 'a scroll region for 30 rows');
      harness.stdin!.write('\x03');
      await waitFor(() => /exit \d+/.test(report.text), 'loopscope to exit');
      await waitFor(() => /\x1b\[r[^]*lag\s+p50/.test(out.text), 'the summary');
      expect(alive(target)).toBe(false);
      const released = out.text.lastIndexOf('\x1b[r');
      expect(released).toBeGreaterThan(out.text.lastIndexOf('\x1b[1;'));
    });
  });
});
