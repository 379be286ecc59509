// The CPU sampler's states against an inspector that keeps V8's rules for console profiles: a
// profile id from one counter for the whole process; console.profile() starting a profile,
// with an id of its own, in every session of the thread with the Profiler domain on (ours,
// and a debugger's when there is one); the events before the evaluation's answer. The real
// sampler is driven through it; the process tests (sampler.test.ts) cover V8 itself.

import { describe, expect, it } from 'vitest';
import { CpuSampler, type InspectorSession } from '../probe/cpu-sampler';
import { ProfileTable } from '../probe/profile-table';
import type { ProfilerState } from '../probe/wire';

type Listener = (message: { params: unknown }) => void;

class FakeInspector implements InspectorSession {
  /** Our session's profiles running in V8. */
  readonly running = new Set<string>();
  /** Ids other threads or sessions draw between our calls. */
  debugger = false;
  /** Answers wait for this when set: the main thread is busy. */
  hold: Promise<void> | undefined;
  private lastId = 0;
  private readonly listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  post(method: string, params: object, callback: (err: Error | null, result?: unknown) => void): void {
    void (async () => {
      await new Promise((r) => setImmediate(r));
      if (this.hold) await this.hold;
      if (method === 'Profiler.disable') for (const t of [...this.running]) this.end(t);
      if (method !== 'Runtime.evaluate') return callback(null, {});
      const m = /\?\.\((\d), "([^"]+)"\)/.exec((params as { expression: string }).expression)!;
      const [op, title] = [Number(m[1]), m[2]!];
      if (op === 1) this.end(title);
      else {
        this.start(title);
        this.start(`${title}-pair`);
        this.end(`${title}-pair`);
      }
      callback(null, { result: { value: [1, 2, 3, 4] } });
    })();
  }

  private start(title: string): void {
    const id = ++this.lastId;
    if (this.debugger) ++this.lastId;
    this.running.add(title);
    this.emit('Profiler.consoleProfileStarted', { id: String(id), title });
  }

  private end(title: string): void {
    if (!this.running.delete(title)) return;
    this.emit('Profiler.consoleProfileFinished', { id: '0', title, profile: { nodes: [{ id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 } }], startTime: 0, endTime: 0, samples: [], timeDeltas: [] } });
  }

  private emit(event: string, params: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l({ params });
  }
}

const settle = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sampler(inspector: FakeInspector) {
  const states: ProfilerState['state'][] = [];
  let now = 0;
  // Each read of the clock is a second on: every harvest asked for is due.
  const s = new CpuSampler(inspector, new ProfileTable({ file: '/probe.js' }, 0), 10, { harvested: () => undefined, state: (st) => states.push(st.state) }, () => (now += 1000));
  return { s, states };
}

async function harvests(s: CpuSampler, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    s.harvest();
    await settle(40);
  }
}

describe('the CPU sampler\'s states', () => {
  it('stays on over harvests when the pair\'s ids step by one, with one profile running', async () => {
    const inspector = new FakeInspector();
    const { s, states } = sampler(inspector);
    s.start();
    await settle();
    await harvests(s, 4);
    expect(states).toEqual(['on']);
    expect(inspector.running.size).toBe(1);
    s.stop();
  });

  it('pauses when a debugger\'s session gets a profile at each start, and leaves nothing running', async () => {
    const inspector = new FakeInspector();
    inspector.debugger = true;
    const { s, states } = sampler(inspector);
    s.start();
    await settle();
    await harvests(s, 3);
    expect(states).toEqual(['on', 'paused']);
    expect([...inspector.running]).toEqual([]);
    s.stop();
  });

  it('a pause that comes while a start is under way: what that start began is ended too', async () => {
    const inspector = new FakeInspector();
    const { s, states } = sampler(inspector);
    s.start();
    await settle();
    // The debugger comes: the next start's pair steps by two, the one after too, and the
    // pause comes from the events, before the second start's answer.
    inspector.debugger = true;
    await harvests(s, 2);
    expect(states).toEqual(['on', 'paused']);
    await settle(40);
    expect([...inspector.running]).toEqual([]);
    s.stop();
  });

  it('finish while a harvest\'s start is under way: the previous profile and the new one both end, then done', async () => {
    const inspector = new FakeInspector();
    const { s } = sampler(inspector);
    s.start();
    await settle();
    let release!: () => void;
    inspector.hold = new Promise((r) => (release = r));
    s.harvest();
    let done = false;
    s.finish(5_000, () => (done = true));
    inspector.hold = undefined;
    release();
    await settle(40);
    expect(done).toBe(true);
    expect([...inspector.running]).toEqual([]);
    s.stop();
  });

  it('finish right after a harvest: the previous profile ends now, not two intervals later', async () => {
    const inspector = new FakeInspector();
    const { s } = sampler(inspector);
    s.start();
    await settle();
    s.harvest();
    await settle(5);
    // Two profiles run now: the new one, and the previous, due to end 20 ms on.
    expect(inspector.running.size).toBe(2);
    let done = false;
    s.finish(5_000, () => (done = true));
    await settle(10);
    expect(done).toBe(true);
    expect([...inspector.running]).toEqual([]);
    s.stop();
  });
});
