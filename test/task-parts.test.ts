// The parts tasks and trace modes' hook feeds, on their own: what each keeps per resource, and
// what each does to stay cheap (a sample of the times, a budget of stacks, shared clock reads).

import { describe, expect, it } from 'vitest';
import { ABSENT, RAN, ResourceTable, STACKED, TIMED } from '../probe/resource-table';
import { TaskTypes } from '../probe/task-types';
import { CreationSites } from '../probe/creation-sites';
import { TraceColumns } from '../probe/trace-columns';
import { TaskEventKind } from '../probe/wire';

describe('the resource table', () => {
  it('keeps each live resource\'s type, creation time and flags, displaced or not, until it is removed', () => {
    const table = new ResourceTable();
    table.add(5, 1, 100, TIMED);
    // 5 + 65,536 takes the same slot: 5 moves aside, still found.
    table.add(5 + 65_536, 2, 200, STACKED);
    for (const [id, type, init, flags] of [[5, 1, 100, TIMED], [5 + 65_536, 2, 200, STACKED]] as const) {
      const ref = table.find(id);
      expect(ref).not.toBe(ABSENT);
      expect([table.typeIndex(ref), table.initUs(ref), table.flags(ref)]).toEqual([type, init, flags]);
    }
    const displaced = table.find(5);
    table.setFlag(displaced, RAN);
    expect(table.flags(table.find(5))).toBe(TIMED | RAN);
    const removed = table.remove(5);
    expect([table.typeIndex(removed), table.flags(removed)]).toEqual([1, TIMED | RAN]);
    expect(table.find(5)).toBe(ABSENT);
    expect(table.remove(5)).toBe(ABSENT);
    expect(table.typeIndex(table.remove(5 + 65_536))).toBe(2);
    expect(table.find(5 + 65_536)).toBe(ABSENT);
  });

  it('counts the resources it has no room left for', () => {
    const table = new ResourceTable();
    // Each id displaces a live one from its slot: 200,000 fit aside, the rest are counted.
    for (let i = 1; i <= 200_010 + 65_536; i++) table.add(i, 0, 0, 0);
    expect(table.untracked).toBe(10);
  });
});

describe('per-type counters', () => {
  it('time every one of the first 64 resources of a type in an interval, then one in 8', () => {
    const types = new TaskTypes();
    const c = types.of('TickObject');
    let timed = 0;
    for (let i = 0; i < 64 + 800; i++) {
      c.created++;
      if (c.timesThis()) timed++;
    }
    expect(timed).toBe(64 + 100);
    types.take();
    c.created++;
    expect(c.timesThis()).toBe(true);
  });
});

describe('creation stacks', () => {
  it('take the first of each type per interval, then one in 512, within a budget per second', () => {
    const sites = new CreationSites(__filename);
    let taken = 0;
    for (let id = 1; id <= 2048; id++) if (sites.sample(id, 0, 'Timeout')) taken++;
    // The first, then the 512th, 1,024th, ... of the interval.
    expect(taken).toBe(1 + 3);
    expect(sites.stackOf(1)).toBeInstanceOf(Error);
    expect(sites.stackOf(2)).toBeUndefined();
    // Many types at once: the burst allowance runs out, whatever the types.
    let others = 0;
    for (let type = 1; type <= 50; type++) if (sites.sample(10_000 + type, type, `T${type}`)) others++;
    expect(others).toBe(10 - taken);
    // A second's budget comes back over a second of intervals.
    sites.take(1_000_000);
    let next = 0;
    for (let type = 1; type <= 50; type++) if (sites.sample(20_000 + type, type, `T${type}`)) next++;
    expect(next).toBe(10);
  });
});

describe('trace columns', () => {
  it('give a run of destroys one clock read per 16, and every other event its own time', () => {
    const batches: { kinds: number[]; times: number[] }[] = [];
    const columns = new TraceColumns((cols, count) => batches.push({ kinds: [...cols.kinds.subarray(0, count)], times: [...cols.timesUs.subarray(0, count)] }));
    let reads = 0;
    const clock = (): number => ++reads * 1000;
    columns.emit(TaskEventKind.after, 1, 0, 0, 5);
    for (let id = 1; id <= 40; id++) columns.emit(TaskEventKind.destroy, id, 0, 0, columns.destroyTimeUs(clock));
    columns.emit(TaskEventKind.before, 2, 0, 0, 7);
    columns.emit(TaskEventKind.destroy, 3, 0, 0, columns.destroyTimeUs(clock));
    columns.flush();
    expect(reads).toBe(3 + 1);
    const times = batches[0]!.times;
    expect(times.slice(1, 41)).toEqual([...Array(16).fill(1000), ...Array(16).fill(2000), ...Array(8).fill(3000)]);
    expect(times.slice(41)).toEqual([7, 4000]);
  });
});
