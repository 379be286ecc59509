// The CPU sampler's states against an inspector that keeps V8's rules for console profiles: a
// profile id from one counter for the whole process; console.profile() starting a profile,
// with an id of its own, in every session of the thread with the Profiler domain on (ours,
// and a debugger's when there is one); the events before the evaluation's answer. The real
// sampler is driven through it; the process tests (sampler.test.ts) cover V8 itself.

import { describe, expect, it } from 'vitest';
import { CpuSampler, type InspectorSession } from '../probe/cpu-sampler';
import { ProfileTable } from '../probe/profile-table';
import type { ProfileBatch, ProfilerState } from '../probe/wire';

type Listener = (message: { params: unknown }) => void;

class FakeInspector implements InspectorSession {
  /** Our session's profiles running in V8. */
  readonly running = new Set<string>();
  /** Ids other threads or sessions draw between our calls. */
  debugger = false;
  /** Answers wait for this when set: the main thread is busy. */
  hold: Promise<void> | undefined;
  private lastId = 0;
  /** The profiles' clock, µs: a ms on at each call and each end. */
  private clockUs = 0;
  private readonly startedAt = new Map<string, number>();
  /** Our session's profiles, oldest first, as V8 keeps them for an untitled profileEnd. */
  private readonly order: string[] = [];
  private readonly listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  post(method: string, params: object, callback: (err: Error | null, result?: unknown) => void): void {
    void (async () => {
      await new Promise((r) => setImmediate(r));
      if (this.hold) await this.hold;
      this.clockUs += 1000;
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

  /** The target's own untitled console.profileEnd(): V8 ends the newest profile of the session. */
  profileEnd(): void {
    const newest = this.order.at(-1);
    if (newest !== undefined) this.end(newest);
  }

  private start(title: string): void {
    const id = ++this.lastId;
    if (this.debugger) ++this.lastId;
    this.running.add(title);
    this.order.push(title);
    this.startedAt.set(title, this.clockUs);
    this.emit('Profiler.consoleProfileStarted', { id: String(id), title });
  }

  /** Ends `title`, with a sample of the program's `work` every ms since it started. */
  private end(title: string): void {
    if (!this.running.delete(title)) return;
    this.order.splice(this.order.indexOf(title), 1);
    const startTime = this.startedAt.get(title)!;
    const endTime = (this.clockUs += 1000);
    const samples: number[] = [];
    const timeDeltas: number[] = [];
    for (let t = startTime + 500; t < endTime; t += 1000) {
      samples.push(2);
      timeDeltas.push(samples.length === 1 ? 500 : 1000);
    }
    const nodes = [
      { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [2] },
      { id: 2, callFrame: { functionName: 'work', scriptId: '1', url: '/app.js', lineNumber: 1, columnNumber: 0 } },
    ];
    this.emit('Profiler.consoleProfileFinished', { id: '0', title, profile: { nodes, startTime, endTime, samples, timeDeltas } });
  }

  private emit(event: string, params: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l({ params });
  }
}

const settle = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sampler(inspector: FakeInspector) {
  const states: ProfilerState['state'][] = [];
  const batches: ProfileBatch[] = [];
  let now = 0;
  // Each read of the clock is a second on: every harvest asked for is due.
  const s = new CpuSampler(inspector, new ProfileTable({ file: '/probe.js' }, 0), 10, { harvested: (b) => batches.push(b), state: (st) => states.push(st.state) }, () => (now += 1000));
  return { s, states, batches };
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

  it('the target\'s untitled profileEnd ends the profile a harvest just started: every sample of the one before is kept, in time order, and sampling goes on at once', async () => {
    const inspector = new FakeInspector();
    const { s, batches } = sampler(inspector);
    s.start();
    await settle();
    s.harvest();
    await settle(5);
    // The new profile runs beside the previous one, which ends 20 ms on: the program's
    // profileEnd now ends the new one, and it comes first.
    expect(inspector.running.size).toBe(2);
    inspector.profileEnd();
    await settle(60);
    const times = batches.flatMap((b) => [...b.timesUs]);
    expect(times.length).toBeGreaterThan(4);
    // The previous profile's samples span the new one's: every ms from the first start on, none lost, none twice.
    expect(times).toEqual(times.map((_, i) => times[0]! + i * 1000));
    // A profile of ours runs again without waiting for the next harvest.
    expect(inspector.running.size).toBe(1);
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
