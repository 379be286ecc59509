// What the trace screens draw (main/session/trace-view.ts): from a real probed HTTP server,
// and from small hand-built batches for the edges (bounds, windows, long chains).

import { beforeAll, describe, expect, it } from 'vitest';
import { TaskEventKind, type TaskEventBatch } from '../probe/wire';
import { runProbed } from './helpers/probe-harness';
import { TraceModel } from '../main/session/trace-model';
import type { SessionState } from '../main/session/session-state';
import { originOf } from '../main/ui/view-model';
import { causalityView, longest, timelineView } from '../main/ui/trace-view';
import type { CausalityNode } from '../main/ui/ui-api';

type Event = readonly [kind: number, asyncId: number, timeUs: number, type?: string, triggerId?: number];

/** A batch as the decoder hands it over, from rows of events. */
function batch(events: readonly Event[]): TaskEventBatch {
  const names = [...new Set(events.map((e) => e[3]).filter((t): t is string => t !== undefined))];
  const n = events.length;
  return {
    count: n,
    kinds: Uint8Array.from(events, (e) => e[0]),
    asyncIds: Float64Array.from(events, (e) => e[1]),
    triggerIds: Float64Array.from(events, (e) => e[4] ?? 0),
    timesUs: Float64Array.from(events, (e) => e[2]),
    typeIds: Uint16Array.from(events, (e) => (e[3] === undefined ? 0 : names.indexOf(e[3]))),
    types: new Map(names.map((name, i) => [i, name])),
  };
}

const { init, before, after, destroy, turn } = TaskEventKind;

/** One turn at `atUs` running each resource's callback back to back, `lengthsUs` long. */
function turnOf(atUs: number, callbacks: readonly (readonly [asyncId: number, lengthUs: number])[]): Event[] {
  const events: Event[] = [[turn, 0, atUs]];
  let t = atUs;
  for (const [id, length] of callbacks) {
    events.push([before, id, t], [after, id, t + length]);
    t += length;
  }
  return events;
}

describe('trace views of a real HTTP server calling itself', () => {
  let trace: TraceModel;
  let state: SessionState;
  const SPIN_MS = 20;

  beforeAll(async () => {
    const run = await runProbed('trace-http.js', { RUN_MS: '1500', EVERY_MS: '100', SPIN_MS: String(SPIN_MS) }, { mode: 'trace' });
    await run.exit;
    await run.closed;
    await run.server.close();
    trace = run.feed.trace;
    state = run.state();
  });

  it('puts the callbacks on the metrics samples\' clock', () => {
    // Both come from performance.now() on the target's main thread: the trace lies inside
    // the stretch the samples cover (the last sample is taken as the probe closes).
    const view = timelineView(trace, originOf(state), -60, 60, 10_000);
    const lastS = (state.totals.lastSampleUs! - originOf(state)) / 1e6;
    expect(view.extent!.fromS).toBeGreaterThan(-0.5);
    expect(view.extent!.toS).toBeLessThanOrEqual(lastS + 0.2);
    expect(view.extent!.toS).toBeGreaterThan(1);
    for (const s of view.slices) expect(s.startS).toBeGreaterThanOrEqual(view.extent!.fromS);
  });

  it('shows each request\'s slow timer as a long top-level Timeout slice, inside its turn', () => {
    const view = timelineView(trace, originOf(state), 0, 60, 10_000);
    expect(view.hiddenSlices).toBe(0);
    const slow = view.slices.filter((s) => s.type === 'Timeout' && s.durationMs >= SPIN_MS);
    expect(slow.length).toBeGreaterThanOrEqual(8);
    expect(slow.every((s) => s.depth === 0)).toBe(true);
    for (const s of slow) {
      const inside = view.turns.find((t) => t.startS <= s.startS && s.startS + s.durationMs / 1000 <= t.startS + t.durationMs / 1000 + 1e-9);
      expect(inside, `a turn around the slice at ${s.startS}`).toBeDefined();
    }
    expect(view.slices.map((s) => s.startS)).toEqual([...view.slices.map((s) => s.startS)].sort((a, b) => a - b));
  });

  it('names each handler\'s timer by the function it calls, as the probe read it off the resource', () => {
    const slices = timelineView(trace, originOf(state), 0, 60, 10_000).slices;
    const handlers = slices.filter((s) => s.type === 'Timeout' && s.durationMs >= SPIN_MS);
    expect(handlers.filter((s) => s.name === 'answerSlowly').length).toBeGreaterThanOrEqual(8);
    // Resources that hold no callback of the program's (sockets, requests) have no name.
    expect(slices.filter((s) => s.type === 'TCPWRAP').every((s) => s.name === null)).toBe(true);
  });

  it('keeps the longest callbacks when a window holds more than the bound', () => {
    const all = timelineView(trace, originOf(state), 0, 60, 10_000);
    const few = timelineView(trace, originOf(state), 0, 60, 5);
    expect(few.slices).toHaveLength(5);
    expect(few.hiddenSlices).toBe(all.slices.length - 5);
    expect(few.turns.length).toBeLessThanOrEqual(5);
    expect(few.hiddenTurns).toBe(all.turns.length - few.turns.length);
    const shortestKept = Math.min(...few.slices.map((s) => s.durationMs));
    expect(shortestKept).toBeGreaterThanOrEqual(SPIN_MS);
  });

  it('gives a slow timer\'s chain from the listening socket, and what the timer caused', () => {
    const origin = originOf(state);
    // (On a loaded machine the client's interval timer can be slow too, on its first run.)
    const slowTimers = timelineView(trace, origin, 0, 60, 10_000).slices.filter((s) => s.type === 'Timeout' && s.durationMs >= SPIN_MS);
    const views = slowTimers.map((s) => causalityView(trace, origin, s.asyncId)!);
    const handlers = views.filter((v) => v.chain.map((r) => r.type).slice(-4).join() === 'TCPSERVERWRAP,TCPWRAP,HTTPINCOMINGMESSAGE,Timeout');
    expect(handlers.length).toBeGreaterThanOrEqual(8);
    const view = handlers[0]!;
    const slow = slowTimers[views.indexOf(view)]!;
    expect(view.chainHidden).toBe(0);
    expect(view.rootTriggerId).toBeLessThanOrEqual(1);
    const self = view.chain[view.chain.length - 1]!;
    expect(self).toMatchObject({ asyncId: slow.asyncId, callbacks: 1, callbackMs: slow.durationMs });
    expect(self.destroyedS).toBeGreaterThan(self.initS);
    // Each link was created by the one before it, and not before it.
    for (let i = 1; i < view.chain.length; i++) {
      expect(view.chain[i]!.triggerId).toBe(view.chain[i - 1]!.asyncId);
      expect(view.chain[i]!.initS).toBeGreaterThanOrEqual(view.chain[i - 1]!.initS);
    }
    // The response it writes shows in what the timer caused.
    const types = new Set<string>();
    const walk = (n: CausalityNode): void => { types.add(n.type); n.children.forEach(walk); };
    walk(view.tree);
    expect(view.tree.asyncId).toBe(slow.asyncId);
    expect(types).toContain('TickObject');
  });
});

describe('timelineView', () => {
  const model = new TraceModel();
  model.apply(batch([
    [init, 10, 0, 'Timeout', 1], [init, 11, 0, 'Immediate', 1], [init, 12, 0, 'TickObject', 10],
    // Turn 1 at 1 s: a timer (nesting a tick) then an immediate.
    [turn, 0, 1_000_000], [before, 10, 1_000_000], [before, 12, 1_000_100], [after, 12, 1_000_300], [after, 10, 1_002_000],
    [before, 11, 1_002_000], [after, 11, 1_002_500],
    // Turn 2 at 3 s, one tiny callback; turn 3 at 5 s, a 1 ms one.
    ...turnOf(3_000_000, [[11, 5]]), ...turnOf(5_000_000, [[10, 1000]]),
  ]));
  const origin = 500_000;

  it('converts times to seconds and milliseconds since the origin, with depths', () => {
    const view = timelineView(model, origin, 0, 1, 100);
    expect(view.turns).toEqual([{ startS: 0.5, durationMs: 2.5, callbacks: 3 }]);
    expect(view.slices).toEqual([
      { asyncId: 10, type: 'Timeout', name: null, startS: 0.5, durationMs: 2, depth: 0 },
      { asyncId: 12, type: 'TickObject', name: null, startS: 0.5001, durationMs: 0.2, depth: 1 },
      { asyncId: 11, type: 'Immediate', name: null, startS: 0.502, durationMs: 0.5, depth: 0 },
    ]);
    expect(view.extent).toEqual({ fromS: 0.5, toS: 4.501 });
  });

  it('includes what overlaps the window\'s edges, and nothing outside it', () => {
    // From 0.501 s: the first turn still runs (its timer ends at 0.502 s).
    const edge = timelineView(model, origin, 0.501, 2.5, 100);
    expect(edge.turns.map((t) => t.startS)).toEqual([0.5, 2.5]);
    expect(edge.slices.map((s) => s.asyncId)).toEqual([10, 11, 11]);
    const gap = timelineView(model, origin, 0.6, 2.4, 100);
    expect(gap.turns).toEqual([]);
    expect(gap.slices).toEqual([]);
    expect(timelineView(model, origin, 10, 20, 100).slices).toEqual([]);
    expect(timelineView(model, origin, 2, 1, 100).turns).toEqual([]);
  });

  it('bounds turns and slices, keeping the longest, and counts what it left out', () => {
    const view = timelineView(model, origin, 0, 10, 2);
    expect(view.slices.map((s) => s.durationMs)).toEqual([2, 1]);
    expect(view.hiddenSlices).toBe(3);
    expect(view.turns.map((t) => t.durationMs)).toEqual([2.5, 1]);
    expect(view.hiddenTurns).toBe(1);
    expect(timelineView(model, origin, 0, 10, 0)).toMatchObject({ slices: [], hiddenSlices: 5 });
  });

  it('is empty, with no extent, before the first turn', () => {
    expect(timelineView(new TraceModel(), 0, 0, 10, 100)).toEqual({ fromS: 0, toS: 10, turns: [], slices: [], hiddenTurns: 0, hiddenSlices: 0, extent: null, keepS: 10, full: false, tracedFromAsyncId: null });
  });

  it('answers a window over a full model quickly', () => {
    const big = new TraceModel();
    big.apply(batch([[init, 2, 0, 'Immediate', 1]]));
    for (let i = 0; i < 2000; i++) big.apply(batch(turnOf(i * 1000, Array.from({ length: 500 }, (_, j): [number, number] => [2, 1 + ((i * 7 + j * 13) % 97) / 100]))));
    const started = performance.now();
    const view = timelineView(big, 0, -1, 10, 5000);
    const took = performance.now() - started;
    expect(view.slices).toHaveLength(5000);
    expect(view.hiddenSlices).toBe(2000 * 500 - 5000);
    expect(took).toBeLessThan(1000);
  });
});

describe('longest', () => {
  it('keeps the k largest in their order, ties taken first come first', () => {
    const size = (x: number) => x;
    expect(longest([3, 1, 4, 1, 5, 9, 2, 6], 3, size)).toEqual([5, 9, 6]);
    expect(longest([2, 2, 2, 1], 2, size)).toEqual([2, 2]);
    expect(longest([1, 2], 5, size)).toEqual([1, 2]);
    expect(longest([1, 2], 0, size)).toEqual([]);
    const many = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    expect(longest(many, 10, size).sort((a, b) => b - a)).toEqual([999, 998, 997, 996, 995, 994, 993, 992, 991, 990]);
  });
});

describe('causalityView', () => {
  it('is null for a resource the trace does not hold', () => {
    expect(causalityView(new TraceModel(), 0, 42)).toBeNull();
  });

  it('sums the kept callbacks and says when a resource was destroyed', () => {
    const model = new TraceModel();
    model.apply(batch([
      [init, 5, 1_000, 'TCPWRAP', 1],
      ...turnOf(2_000, [[5, 300]]), ...turnOf(4_000, [[5, 700]]),
      [destroy, 5, 9_000],
      [init, 6, 9_500, 'Timeout', 99],
    ]));
    const view = causalityView(model, 1_000, 5)!;
    expect(view.chain).toEqual([{ asyncId: 5, type: 'TCPWRAP', name: null, triggerId: 1, initS: 0, destroyedS: 0.008, callbacks: 2, callbackMs: 1 }]);
    expect(view.tree).toMatchObject({ asyncId: 5, children: [], hiddenChildren: 0 });
    // Created by a resource the trace does not hold: the chain starts there, and says so.
    expect(causalityView(model, 1_000, 6)).toMatchObject({ rootTriggerId: 99, chain: [{ asyncId: 6, destroyedS: null, callbacks: 0 }] });
  });

  it('shortens a long chain to its root and nearest causes', () => {
    const model = new TraceModel();
    // A timer that re-arms itself 1000 times: each created by the one before.
    model.apply(batch(Array.from({ length: 1000 }, (_, i): Event => [init, 100 + i, i, 'Timeout', i === 0 ? 1 : 99 + i])));
    const view = causalityView(model, 0, 1099)!;
    expect(view.chain[0]!.asyncId).toBe(100);
    expect(view.chain[1]!.asyncId).toBe(1099 - 47);
    expect(view.chain[view.chain.length - 1]!.asyncId).toBe(1099);
    expect(view.chain.length + view.chainHidden).toBe(1000);
    expect(view.rootTriggerId).toBe(1);
    const root = causalityView(model, 0, 100)!;
    // The root's subtree is the whole chain: bounded in depth, the rest counted.
    let depth = 0;
    for (let n: CausalityNode | undefined = root.tree; n; n = n.children[0]) depth++;
    expect(depth).toBe(25);
    // Where the bound cut it: one resource left out, which caused the rest.
    expect(root.treeHidden).toBe(1);
  });

  it('bounds a wide tree breadth first: the nearest effects stay, the rest are counted', () => {
    const model = new TraceModel();
    const events: Event[] = [[init, 2, 0, 'TCPSERVERWRAP', 1]];
    for (let i = 0; i < 1000; i++) events.push([init, 10 + i, 1, 'TCPWRAP', 2]);
    events.push([init, 5000, 2, 'HTTPINCOMINGMESSAGE', 10]);
    model.apply(batch(events));
    const view = causalityView(model, 0, 2)!;
    expect(view.tree.children.length + view.tree.hiddenChildren).toBe(1000);
    expect(view.tree.children.length).toBeLessThan(1000);
    expect(view.tree.children[0]!).toMatchObject({ asyncId: 10, children: [], hiddenChildren: 1 });
    expect(view.treeHidden).toBe(view.tree.hiddenChildren + 1);
    // Asked about the connection itself, the request it caused is there.
    expect(causalityView(model, 0, 10)!.tree.children.map((c) => c.type)).toEqual(['HTTPINCOMINGMESSAGE']);
  });
});
