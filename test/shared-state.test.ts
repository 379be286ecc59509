import { describe, expect, it } from 'vitest';
import { createSharedState, SharedViews } from '../probe/shared-state';

describe('shared ring', () => {
  it('passes whole frames across the wrap-around, in order', () => {
    const state = createSharedState(64);
    const producer = new SharedViews(state);
    const consumer = new SharedViews(state);
    const out: number[] = [];
    for (let round = 0; round < 50; round++) {
      const frame = Uint8Array.from({ length: 10 + (round % 7) }, (_, i) => (round + i) & 0xff);
      expect(producer.write(frame)).toBe(true);
      if (round % 3 === 2) out.push(...consumer.read()!);
      if (round % 3 === 2) expect(consumer.read()).toBeNull();
    }
    out.push(...(consumer.read() ?? []));
    const expected: number[] = [];
    for (let round = 0; round < 50; round++) expected.push(...Array.from({ length: 10 + (round % 7) }, (_, i) => (round + i) & 0xff));
    expect(out).toEqual(expected);
  });

  it('refuses a frame that does not fit, writing nothing of it, and counts the drop', () => {
    const views = new SharedViews(createSharedState(32));
    expect(views.write(new Uint8Array(20))).toBe(true);
    expect(views.write(new Uint8Array(20))).toBe(false);
    views.countDrop(2, 20);
    expect(views.read()!.length).toBe(20);
    expect(views.drops()).toEqual({ byType: new Map([[2, 1]]), bytes: 20 });
  });

  it('only takes power-of-two capacities', () => {
    expect(() => createSharedState(100)).toThrow(/power of two/);
  });
});

describe('GC pauses from the worker to the main thread', () => {
  it('passes pauses in order, a bounded number at a time, and counts those it has no room for', () => {
    const state = createSharedState(64);
    const worker = new SharedViews(state);
    const main = new SharedViews(state);
    const taken: number[] = [];
    const take = (max: number) => main.takeGcPauses(max, (kind, startUs, durationUs) => taken.push(kind, startUs, durationUs));
    // Several times round the ring, a few thousand at a time, as a flush delivers them.
    let next = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3000; i++, next++) expect(worker.pushGcPause(1 + (next % 3), next, next / 2)).toBe(true);
      while (take(256) > 0);
    }
    expect(taken).toEqual(Array.from({ length: next }, (_, i) => [1 + (i % 3), i, i / 2]).flat());
    expect(worker.gcPausesLost).toBe(0);
    // The main thread falls behind by more than the ring holds: the rest are counted lost.
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) if (worker.pushGcPause(1, i, 1)) accepted++;
    expect(worker.gcPausesLost).toBe(10_000 - accepted);
    expect(accepted).toBeGreaterThan(1000);
    taken.length = 0;
    while (take(256) > 0);
    expect(taken.length / 3).toBe(accepted);
    expect(taken.filter((_, i) => i % 3 === 1)).toEqual(Array.from({ length: accepted }, (_, i) => i));
  });
});

describe('waking the worker at a beat', () => {
  it('resolves at the next beat, at once for a beat already made, or at the timeout', async () => {
    const state = createSharedState(64);
    const main = new SharedViews(state);
    const worker = new SharedViews(state);

    const seen = worker.heartbeat;
    let t = performance.now();
    setTimeout(() => main.beat(performance.now()), 30);
    expect(await worker.waitForBeat(seen, 5000)).toBe('ok');
    expect(performance.now() - t).toBeLessThan(1000);

    expect(await worker.waitForBeat(seen, 5000)).toBe('not-equal'); // a beat since `seen`

    t = performance.now();
    expect(await worker.waitForBeat(worker.heartbeat, 40)).toBe('timed-out');
    expect(performance.now() - t).toBeGreaterThanOrEqual(35);

    // The main thread notifies only while the worker asks it to: its beats cost no more otherwise.
    const waiting = worker.waitForBeat(worker.heartbeat, 100);
    worker.stopWaitingForBeats();
    main.beat(performance.now());
    expect(await waiting).toBe('timed-out');
  });
});
