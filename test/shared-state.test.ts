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
