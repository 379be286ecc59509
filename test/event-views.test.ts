// trace mode's tasks views, worked out from event rows (main/session/event-views.ts): pure,
// from batches built as the probe builds them. The real probe's are in tasks.test.ts.

import { describe, expect, it } from 'vitest';
import { EventViews } from '../main/session/event-views';
import { countOf } from '../probe/log-histogram';
import { TaskEventKind, type TaskEventBatch, type TasksSample } from '../probe/wire';

type Row = [kind: number, asyncId: number, timeUs: number, type?: string];

/** A batch of rows; an init row's type gets a dictionary id of its own. */
function batch(rows: readonly Row[], first = false): TaskEventBatch {
  const ids = new Map<string, number>();
  const typeIds = new Uint16Array(rows.length);
  rows.forEach(([, , , type], i) => {
    if (type === undefined) return;
    if (!ids.has(type)) ids.set(type, ids.size + 1);
    typeIds[i] = ids.get(type)!;
  });
  return {
    count: rows.length,
    kinds: Uint8Array.from(rows.map((r) => r[0])),
    asyncIds: Float64Array.from(rows.map((r) => r[1])),
    triggerIds: new Float64Array(rows.length),
    timesUs: Float64Array.from(rows.map((r) => r[2])),
    typeIds,
    types: new Map([...ids].map(([type, id]) => [id, type])),
    ...(first ? { first: true } : {}),
  };
}

/** A trace mode sample as the probe sends it: the views left to loopscope. */
function partial(stacks: NonNullable<TasksSample['fromEvents']>['stacks'] = []): TasksSample {
  return {
    timeUs: 1_000_000, intervalUs: 100_000, promisesTracked: false, types: [],
    threadpool: { size: 4, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [] },
    timers: { fired: 0, lateUs: [], lateMaxUs: 0 }, fanOut: { perCallback: [], max: 0, maxType: '' },
    slowCallbacks: [], liveSites: [], untracked: 0, fromEvents: { stacks },
  };
}

const { init, before, after, destroy } = TaskEventKind;
const frame = { functionName: 'makeTimer', url: 'file:///app.js', lineNumber: 3, columnNumber: 1 };

describe('trace mode views from events', () => {
  it('counts, times and nests what the rows say, as tasks mode would', () => {
    const views = new EventViews();
    views.apply(batch([
      [init, 10, 0, 'Timeout'],
      [init, 11, 5, 'FSREQCALLBACK'],
      [before, 10, 100],
      // Made inside the timer's callback: its fan-out.
      [init, 12, 110, 'TickObject'],
      [init, 13, 120, 'TickObject'],
      [after, 10, 400],
      [before, 12, 410],
      [after, 12, 420],
      [destroy, 10, 500],
      [destroy, 12, 500],
      [before, 11, 2_005],
      [after, 11, 2_055],
      [destroy, 11, 2_100],
    ], true));
    const sample = views.complete(partial());
    expect(sample.fromEvents).toBeUndefined();
    const byType = Object.fromEntries(sample.types.map((t) => [t.type, t]));
    expect(byType['Timeout']).toMatchObject({ created: 1, destroyed: 1, alive: 0, callbacks: 1, callbackMaxUs: 300, queueMaxUs: 100 });
    expect(byType['TickObject']).toMatchObject({ created: 2, destroyed: 1, alive: 1, callbacks: 1 });
    expect(countOf(byType['TickObject']!.callbackUs)).toBe(1);
    expect(sample.threadpool).toMatchObject({ size: 4, maxInFlight: 1, maxQueued: 0, completed: 1 });
    expect(sample.fanOut).toMatchObject({ max: 2, maxType: 'Timeout' });
    expect(sample.slowCallbacks.map((c) => [c.type, c.durationUs])).toEqual([['Timeout', 300], ['FSREQCALLBACK', 50], ['TickObject', 10]]);
    // The next interval: counts start again, the one still alive stays so.
    const next = views.complete(partial());
    expect(next.types.map((t) => [t.type, t.created, t.alive])).toEqual([['TickObject', 0, 1]]);
  });

  it('gives a slow callback the creation stack the probe sampled, also when its resource is gone by the sample', () => {
    const views = new EventViews();
    views.apply(batch([[init, 20, 0, 'Timeout'], [before, 20, 1_000], [after, 20, 41_000], [destroy, 20, 41_001]], true));
    const sample = views.complete(partial([{ asyncId: 20, stack: [frame] }]));
    expect(sample.slowCallbacks[0]).toMatchObject({ type: 'Timeout', durationUs: 40_000, initStack: [frame] });
    // One whose creation was not sampled has none.
    views.apply(batch([[init, 21, 50_000, 'Timeout'], [before, 21, 50_100], [after, 21, 50_200]]));
    expect(views.complete(partial()).slowCallbacks).toMatchObject([{ asyncId: 21, initStack: [] }]);
  });

  it('starts again with the first batch of a hook turned on afresh, and after a tasks mode sample', () => {
    const views = new EventViews();
    views.apply(batch([[init, 1, 0, 'Timeout']], true));
    expect(views.complete(partial()).types[0]).toMatchObject({ alive: 1 });
    views.apply(batch([[init, 2, 0, 'Immediate']], true));
    expect(views.complete(partial()).types.map((t) => t.type)).toEqual(['Immediate']);
    const whole: TasksSample = { ...partial(), types: [{ type: 'Timeout', created: 3, destroyed: 0, alive: 3, callbacks: 0, callbackUs: [], callbackMaxUs: 0, queueUs: [], queueMaxUs: 0 }] };
    delete (whole as { fromEvents?: unknown }).fromEvents;
    expect(views.complete(whole)).toBe(whole);
    expect(views.complete(partial()).types).toEqual([]);
  });

  it('takes rows no probe sends (ids of 0 or less, callbacks and destroys of unknown ids) without a throw or a count', () => {
    const views = new EventViews();
    expect(() => views.apply(batch([[before, 0, 10], [after, 0, 20], [destroy, 0, 30], [init, -5, 40, 'Timeout'], [before, -5, 50], [destroy, 99, 60], [after, 98, 70]], true))).not.toThrow();
    const sample = views.complete(partial());
    expect(sample.types).toEqual([]);
    expect(sample.slowCallbacks).toEqual([]);
  });

  it('passes other messages through as they are, and completes a tasks message', () => {
    const views = new EventViews();
    const events = { type: 'taskEvents', batch: batch([[init, 1, 0, 'Timeout']]) } as const;
    expect(views.take(events)).toBe(events);
    const taken = views.take({ type: 'tasks', sample: partial() });
    expect(taken.type === 'tasks' && taken.sample.types.map((t) => t.created)).toEqual([1]);
  });
});
