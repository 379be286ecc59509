// A worker thread's loop ends (it exits, or its parent terminates it) and its probe thread
// with it; that must never take the process down. Node 20 aborts the whole process when the
// main thread answers an inspector session of a thread being torn down, so a worker loop's probe
// thread ends only once the main thread has handled its session's end
// (probe/main-thread-witness.ts). The witness with real BroadcastChannels, then real targets
// whose workers come and go under the real CLI.

import { afterEach, describe, expect, it } from 'vitest';
import { afterMainThread, answerAsMainThread } from '../probe/main-thread-witness';
import { BroadcastChannel } from 'node:worker_threads';
import { join } from 'node:path';
import { FIXTURES } from './helpers/probe-harness';
import { loopscope } from './helpers/cli';
import type { Summary } from '../main/reports/summary';

const CHANNEL = 'loopscope-probe-main-thread-witness';

function waitFor(timeoutMs: number): Promise<{ ms: number; calls: number }> {
  const started = performance.now();
  let calls = 0;
  return new Promise((resolve) => {
    afterMainThread(timeoutMs, () => {
      calls++;
      // Any second call would land within this grace.
      setTimeout(() => resolve({ ms: performance.now() - started, calls }), 50);
    });
  });
}

describe('the main thread\'s witness', () => {
  let stopAnswering = (): void => undefined;
  afterEach(() => stopAnswering());

  it('answers at once where the main thread\'s probe answers', async () => {
    stopAnswering = answerAsMainThread();
    const { ms, calls } = await waitFor(2000);
    expect(calls).toBe(1);
    expect(ms).toBeLessThan(1000);
  });

  it('waits out its timeout where nothing answers, and ends once', async () => {
    const { ms, calls } = await waitFor(300);
    expect(calls).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(290);
  });

  it('takes no answer meant for another thread, nor anything else on its channel', async () => {
    // A stand-in for the main thread that answers every ask with the wrong id, and with junk.
    const liar = new BroadcastChannel(CHANNEL);
    liar.onmessage = () => {
      liar.postMessage({ pong: 'someone else' });
      liar.postMessage(null);
      liar.postMessage({ pong: 42 });
    };
    try {
      const { ms, calls } = await waitFor(300);
      expect(calls).toBe(1);
      expect(ms).toBeGreaterThanOrEqual(290);
    } finally {
      liar.close();
    }
  });
});

describe('worker threads that come and go', () => {
  const CHURN = join(FIXTURES, 'worker-churn.js');

  // Each case: 24 workers, two at a time, each followed and then ended, while the main thread
  // parses JSON without a break (8 ms each), so that it handles the probe threads' inspector
  // traffic late, as a busy server does.
  for (const end of ['exit', 'terminate'] as const) {
    it(`run: workers that ${end === 'exit' ? 'exit by themselves' : 'their parent terminates'} end without harm to the process, each seen as a loop`, async () => {
      const r = await loopscope(['run', '--json', '--', process.execPath, CHURN], { TOTAL: '24', PARALLEL: '2', LIFE_MS: '500', END: end, BUSY: '20000' });
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as Summary;
      const workers = summary.loops.filter((l) => l.threadId !== 0);
      // Most are followed before they end; a probe that comes late to one is no fault here.
      expect(workers.length).toBeGreaterThanOrEqual(20);
      if (end === 'exit') expect(workers.every((w) => w.exitCode === 0)).toBe(true);
      else expect(workers.filter((w) => w.terminated).length).toBeGreaterThanOrEqual(20);
    }, 60_000);
  }
});
