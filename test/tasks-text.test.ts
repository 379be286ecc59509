// What tasks mode's summary says, from data shaped like what real targets gave (the review of
// `run --mode tasks` on /tmp/journey's s3-pool, s4-timers and s5-fanout): percentiles within
// their minimum and maximum, estimates marked as such, queue times only where they are one,
// and the wording of the summary's lines. Pure.

import { describe, expect, it } from 'vitest';
import { bucketOf, bucketOfCount, countPercentile, percentileUs, toSparse, LOG_BUCKETS } from '../probe/log-histogram';
import { applyTasks, initialTasksState } from '../main/session/tasks-state';
import { summarizeTasks } from '../main/reports/summary';
import { TraceModel } from '../main/session/trace-model';
import { isPoolType, TaskType } from '../probe/task-types';
import type { TaskTypeStats, TasksSample } from '../probe/wire';
import { profileLines, taskSummaryLines } from '../main/terminal/summary-text';
import type { ProfileTopEntry } from '../main/reports/profile-summary';
import type { Summary } from '../main/reports/summary';
import { taskFindings, UNKNOWN_TYPE_REASON } from '../main/reports/task-findings';
import { taskColumns } from '../renderer/tasks/task-columns';
import { sortRows } from '../renderer/tasks/sort-rows';
import { tasksRows } from '../main/ui/view-model';
import { renderLiveView } from '../main/terminal/live-view';
import { PROTOCOL_VERSION, type Hello, type MetricsSample } from '../probe/wire';
import { feedOf } from './helpers/feed';

/** A histogram of these values, as the probe fills one. */
function histogram(values: readonly number[], bucket: (v: number) => number): [number, number][] {
  const counts = new Array<number>(LOG_BUCKETS).fill(0);
  for (const v of values) counts[bucket(v)]!++;
  return toSparse(counts);
}

function typeStats(type: string, over: Partial<TaskTypeStats> = {}): TaskTypeStats {
  return { type, created: 1, destroyed: 0, alive: 1, callbacks: 1, callbackUs: [], callbackMaxUs: 0, queueUs: [], queueMaxUs: 0, ...over };
}

function sample(over: Partial<TasksSample> = {}): TasksSample {
  return {
    timeUs: 1_000_000, intervalUs: 100_000, promisesTracked: false, types: [],
    threadpool: { size: 4, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [] },
    timers: { fired: 0, lateUs: [], lateMaxUs: 0 }, fanOut: { perCallback: [], max: 0, maxType: '' },
    slowCallbacks: [], liveSites: [], untracked: 0, ...over,
  };
}

const summaryOf = (...samples: TasksSample[]) => summarizeTasks(samples.reduce(applyTasks, initialTasksState), new TraceModel());

describe('bucketed percentiles', () => {
  it('never put a fan-out p99 above its max: one request callback made 59 resources, not 64', () => {
    // s5-fanout: each request's callback makes 20 shards and their promises; a few made 59.
    const perCallback = histogram([...new Array<number>(90).fill(0), ...new Array<number>(8).fill(20), 59, 59], bucketOfCount);
    const s = summaryOf(sample({ fanOut: { perCallback, max: 59, maxType: 'HTTPINCOMINGMESSAGE' } }));
    expect(s.fanOut).toEqual({ p99: 59, max: 59, maxType: 'HTTPINCOMINGMESSAGE' });
    expect(countPercentile(perCallback, 100, 59)).toBe(59);
  });

  it('read a count bucket as the largest whole count it holds, and 0 as 0', () => {
    expect(countPercentile(histogram([59], bucketOfCount), 99, Infinity)).toBe(63);
    expect(countPercentile(histogram([0, 0, 0], bucketOfCount), 99, 0)).toBe(0);
    for (let n = 0; n < 2000; n++) {
      const p = countPercentile(histogram([n], bucketOfCount), 50, Infinity);
      expect(bucketOfCount(p)).toBe(bucketOfCount(n));
      expect(p).toBeGreaterThanOrEqual(n);
    }
  });

  it('cap the pool wait by the longest wait of the pool types: a pbkdf2 that waited 560 ms is not a p99 of 574', () => {
    // s3-pool: pbkdf2 queued behind four busy threads; the waits are the pool types' queue times.
    const waits = [...new Array<number>(40).fill(200_000), 560_000];
    const queueUs = histogram(waits, bucketOf);
    const s = summaryOf(sample({
      types: [typeStats('PBKDF2REQUEST', { created: 41, callbacks: 41, queueUs, queueMaxUs: 560_000 })],
      threadpool: { size: 4, maxInFlight: 14, maxQueued: 10, completed: 41, queueUs },
    }));
    expect(percentileUs(queueUs, 99)).toBeGreaterThan(560_000);
    expect(s.threadpool.queueMsP99).toBe(560);
    expect(s.byType['PBKDF2REQUEST']!.queueMs!.p99).toBe(560);
  });

  it('stay between the smallest and the largest value, whatever they are', () => {
    for (const values of [[0.4], [1, 1, 1], [35_100, 35_150, 35_200], [3, 5_000_000], [999, 1000, 1001]]) {
      const h = histogram(values, bucketOf);
      const max = Math.max(...values);
      for (const p of [0, 1, 50, 90, 99, 100]) {
        const v = percentileUs(h, p, max);
        expect(v).toBeLessThanOrEqual(max);
        expect(v).toBeGreaterThanOrEqual(Math.min(...values));
      }
    }
  });
});

/** s3-pool's pbkdf2 calls: 143 timed, every one, queued behind four busy threads. */
function poolSample(): TasksSample {
  const queueUs = histogram([...new Array<number>(70).fill(300_000), ...new Array<number>(73).fill(800_000)], bucketOf);
  return sample({
    types: [
      typeStats('PBKDF2REQUEST', { created: 143, callbacks: 143, callbackUs: histogram(new Array<number>(143).fill(3000), bucketOf), callbackMaxUs: 5915, queueUs, queueMaxUs: 849_850 }),
      typeStats('TickObject', { created: 1389, callbacks: 1389, callbackUs: histogram(new Array<number>(200).fill(100), bucketOf), callbackMaxUs: 3429, queueUs: histogram(new Array<number>(200).fill(200), bucketOf), queueMaxUs: 3419 }),
    ],
    threadpool: { size: 4, maxInFlight: 14, maxQueued: 10, completed: 143, queueUs },
    timers: { fired: 6, lateUs: histogram([0, 0, 0, 0, 0, 1980], bucketOf), lateMaxUs: 1980 },
    fanOut: { perCallback: histogram([0, 0, 3], bucketOfCount), max: 3, maxType: 'TickObject' },
  });
}

describe('estimates', () => {
  it('are marked ≈ in the summary\'s table, sampled or not: a pbkdf2 queue p99 of 808.563 ms is a bucket\'s edge', () => {
    const lines = taskSummaryLines(summaryOf(poolSample()), '');
    const pbkdf2 = lines.find((l) => l.includes('PBKDF2REQUEST'))!;
    expect(pbkdf2).toMatch(/callback p99 ≈3\.\d\d ms +queue p99 +≈809 ms$/);
    expect(lines.find((l) => l.includes('TickObject') && l.includes('created'))).toMatch(/callback p99 ≈0\.\d\d ms +queue p99 +≈0\.\d\d ms +sampled$/);
    expect(lines).toContain('               ≈: estimated from buckets about 9% wide (never under the real figure, at most 9% over it)');
    expect(lines).toContain('               sampled: a busy type is timed on some of its resources');
  });

  it('are marked ≈ in the findings the summary and the window share: the pool wait, the timers\' lateness, the fan-out p99', () => {
    const found = taskFindings(summaryOf(poolSample()));
    expect(found.find((f) => f.topic === 'thread pool')!.text).toBe('4 threads, up to 14 requests at once, wait p99 ≈809 ms: SATURATED, 10 queued at most');
    expect(found.find((f) => f.topic === 'timers')!.text).toBe('6 fired, late p50 ≈0.00 ms, p99 ≈1.98 ms, max 1.98 ms');
    expect(found.find((f) => f.topic === 'fan-out')!.text).toMatch(/\(p99 ≈3\)$/);
  });

  it('are marked ≈ in the window\'s task table, whose p50 and p99 columns say what they are', () => {
    const cols = taskColumns({ spanS: 7, intervalS: 0.1 });
    for (const key of ['callbackP50Ms', 'callbackP99Ms'] as const) {
      const col = cols.find((c) => c.key === key)!;
      expect(col.label).toMatch(/^≈p\d\d ms$/);
      expect(col.title).toContain('estimated from buckets about 9% wide');
    }
    expect(cols.find((c) => c.key === 'callbackMaxMs')!.label).toBe('max ms');
  });

  it('are left empty in the window\'s task table for a type with no callback timed, and sort last', () => {
    const untimed = sample({ types: [...poolSample().types, typeStats('SIGNALWRAP', { callbacks: 2 })] });
    const rows = tasksRows(applyTasks(initialTasksState, untimed))!;
    const signal = rows.find((r) => r.type === 'SIGNALWRAP')!;
    expect(signal).toMatchObject({ callbacks: 2, callbacksTimed: 0, callbackP50Ms: null, callbackP99Ms: null, callbackMaxMs: null });
    expect(rows.find((r) => r.type === 'PBKDF2REQUEST')!.callbackMaxMs).toBeCloseTo(5.915, 3);
    for (const descending of [true, false]) expect(sortRows(rows, 'callbackP99Ms', descending).at(-1)!.type).toBe('SIGNALWRAP');
  });
});

describe('queue time', () => {
  // s3-pool and s4-timers: handles and timers got a "queue p99" of seconds, and a signal one
  // with no callback counted (the process exited inside it).
  const handles = (): TasksSample => sample({
    types: [
      typeStats('TCPSERVERWRAP', { created: 1, callbacks: 14, callbackUs: histogram(new Array<number>(14).fill(4439), bucketOf), callbackMaxUs: 4439, queueUs: histogram([1_403_407], bucketOf), queueMaxUs: 1_403_407 }),
      typeStats('TCPWRAP', { created: 14, callbacks: 28, callbackUs: histogram(new Array<number>(28).fill(270), bucketOf), callbackMaxUs: 270, queueUs: histogram([6_500_000], bucketOf), queueMaxUs: 6_500_000 }),
      typeStats('Timeout', { created: 2, callbacks: 202, callbackUs: histogram(new Array<number>(202).fill(280), bucketOf), callbackMaxUs: 280, queueUs: histogram([1_033_839], bucketOf), queueMaxUs: 1_033_839 }),
      typeStats('SIGNALWRAP', { created: 1, callbacks: 0, queueUs: histogram([6_902_016], bucketOf), queueMaxUs: 6_902_016 }),
      typeStats('Immediate', { created: 199, callbacks: 198, callbackUs: histogram(new Array<number>(198).fill(38_571), bucketOf), callbackMaxUs: 38_571, queueUs: histogram([35_544], bucketOf), queueMaxUs: 35_544 }),
      typeStats('SHUTDOWNWRAP', { created: 14, callbacks: 14, callbackUs: histogram(new Array<number>(14).fill(850), bucketOf), callbackMaxUs: 850, queueUs: histogram([1610], bucketOf), queueMaxUs: 1610 }),
    ],
  });

  it('is left out for handles, timers and promises, whose first callback waits for something to happen, not for its turn', () => {
    const s = summaryOf(handles());
    for (const type of ['TCPSERVERWRAP', 'TCPWRAP', 'Timeout', 'SIGNALWRAP']) expect(s.byType[type]!.queueMs, type).toBeNull();
    expect(s.byType['Immediate']!.queueMs).toEqual({ p50: 35.544, p99: 35.544, max: 35.544 });
    expect(s.byType['SHUTDOWNWRAP']!.queueMs!.max).toBe(1.61);
  });

  it('is not printed where there is none, nor a callback p99 for a type with no callbacks', () => {
    const lines = taskSummaryLines(summaryOf(handles()), '');
    const row = (type: string): string => lines.find((l) => l.startsWith(`    ${type} `))!;
    expect(row('TCPWRAP')).toMatch(/28 callbacks +callback p99 +≈0\.\d\d ms$/);
    expect(row('Timeout')).not.toContain('queue');
    expect(row('SIGNALWRAP')).toMatch(/1 created +0 callbacks$/);
    expect(row('Immediate')).toMatch(/queue p99 +≈35\.5 ms$/);
    expect(lines).toContain('               queue: creation to callback, for what is called back once served (requests, immediates, ticks)');
  });

  it('for a promise is how long what it waits for took, not a queue', () => {
    const s = summaryOf(sample({ types: [typeStats('PROMISE', { callbacks: 5, callbackUs: histogram([1], bucketOf), callbackMaxUs: 1, queueUs: histogram([3444], bucketOf), queueMaxUs: 3444 })] }));
    expect(s.byType['PROMISE']!.queueMs).toBeNull();
  });
});

describe('fan-out on attach', () => {
  it('names a callback whose resource was made before tasks mode came on, instead of an empty type', () => {
    // s5-fanout attached: the request callbacks ran on connections opened before the hook.
    const perCallback = histogram([...new Array<number>(99).fill(0), 59], bucketOfCount);
    const summary = summaryOf(sample({ fanOut: { perCallback, max: 59, maxType: '' } }));
    expect(summary.fanOut).toEqual({ p99: 0, max: 59, maxType: null, maxTypeReason: UNKNOWN_TYPE_REASON });
    const text = taskFindings(summary).find((f) => f.topic === 'fan-out')!.text;
    expect(text).not.toMatch(/ {2}/);
    expect(text).toBe('one callback of unknown type (its resource was made before tasks mode came on, or was not tracked) created 59 resources (p99 ≈0)');
  });

  it('has no type, and no reason for its lack, when no callback created anything', () => {
    expect(summaryOf(sample({})).fanOut).toEqual({ p99: 0, max: 0, maxType: null });
  });
});

describe('wording', () => {
  it('says "1 resource", "1 callback", "1 thread", "1 request", not their plurals', () => {
    // s4-timers: each batch() immediate makes the next one.
    const s = summaryOf(sample({
      types: [typeStats('Immediate', { created: 1, callbacks: 1, callbackUs: histogram([204], bucketOf), callbackMaxUs: 204, queueUs: histogram([124], bucketOf), queueMaxUs: 124 })],
      threadpool: { size: 1, maxInFlight: 1, maxQueued: 0, completed: 1, queueUs: [] },
      fanOut: { perCallback: histogram([1, 1, 1], bucketOfCount), max: 1, maxType: 'Immediate' },
    }));
    const lines = taskSummaryLines(s, '');
    expect(lines.find((l) => l.startsWith('  fan-out'))).toBe('  fan-out      one Immediate callback created 1 resource (p99 ≈1)');
    expect(lines.find((l) => l.startsWith('    Immediate'))).toMatch(/ 1 created +1 callback +callback p99/);
    expect(lines.find((l) => l.startsWith('  thread pool'))).toMatch(/^ {2}thread pool {2}1 thread, up to 1 request at once,/);
  });
});

describe('the CPU section', () => {
  // s5-fanout: the request handler's own self time was nothing, its time went to writev.
  const entry = (over: Partial<ProfileTopEntry>): ProfileTopEntry => ({ functionName: 'f', url: 'file:///app/s5-fanout.js', lineNumber: 1, selfMs: 0, totalMs: 0, kind: 'own', ...over });
  const profile = (top: readonly ProfileTopEntry[]): NonNullable<Summary['profile']> => ({
    sampleIntervalMs: 20, samples: 336, top, codeMs: 180, idleMs: 6460, gcMs: 20, programMs: 0, probeMs: 60, sampler: 'on',
  });

  it('says what its rows are ordered by, and shows that figure first: own time for the program\'s functions', () => {
    const lines = profileLines({ probePauses: [], profile: profile([
      entry({ functionName: '', lineNumber: 15, selfMs: 0, totalMs: 80, ownMs: 60 }),
      entry({ functionName: '', lineNumber: 13, selfMs: 40, totalMs: 40, ownMs: 40 }),
      entry({ functionName: 'writev', url: '', selfMs: 60, totalMs: 60, kind: 'native' }),
    ]) }, '/app');
    expect(lines[0]).toMatch(/the probe 60\.0 ms; your functions by own time \(theirs and that of the Node and built-in code they called\), then the rest by self time:$/);
    expect(lines[1]).toMatch(/^ +60\.0 ms own +80\.0 ms total {2}\(anonymous\) \(s5-fanout\.js:15\)$/);
    expect(lines[3]).toMatch(/^ +60\.0 ms self +60\.0 ms total {2}writev/);
    expect(lines.join('\n')).not.toContain('0.00 ms self');
  });

  it('keeps "most self time" when only Node\'s and built-in functions are listed', () => {
    const lines = profileLines({ probePauses: [], profile: profile([entry({ functionName: 'writev', url: '', selfMs: 60, totalMs: 60, kind: 'native' })]) }, '');
    expect(lines[0]).toMatch(/; most self time:$/);
  });
});

describe('the slowest callbacks', () => {
  it('say when where they were made is not known, so that the next one\'s "created at" is not read as theirs', () => {
    // s5-fanout: three listed, only the middle one's resource had its creation stack sampled.
    const site = [{ functionName: 'Server.<anonymous>', url: 'file:///app/s5-fanout.js', lineNumber: 15, columnNumber: 3 }];
    const slowCallbacks: TasksSample['slowCallbacks'] = [
      { type: 'Timeout', asyncId: 7, startUs: 1, durationUs: 4540, initStack: [] },
      { type: 'Timeout', asyncId: 8, startUs: 2, durationUs: 4200, initStack: site },
      { type: 'HTTPINCOMINGMESSAGE', asyncId: 9, startUs: 3, durationUs: 3430, initStack: [] },
    ];
    const lines = taskSummaryLines(summaryOf(sample({ slowCallbacks })), '/app');
    const slowest = lines.filter((l) => l.startsWith('  slowest') || l.startsWith('      created at'));
    expect(slowest).toEqual([
      '  slowest      Timeout callback, 4.54 ms (where it was made is not known: creation stacks are taken for a sample of resources)',
      '  slowest      Timeout callback, 4.20 ms',
      '      created at Server.<anonymous> (s5-fanout.js:15:3)',
      '  slowest      HTTPINCOMINGMESSAGE callback, 3.43 ms (where it was made is not known: creation stacks are taken for a sample of resources)',
    ]);
  });
});

describe('the thread pool', () => {
  it('is not where HTTP client requests go: a client waiting 100 ms for its responses is no saturated pool', () => {
    // client.js: eight HTTP requests at a time to a server answering in 100 ms.
    expect(new TaskType(0, 'HTTPCLIENTREQUEST', 'HTTPCLIENTREQUEST').pool).toBe(false);
    for (const type of ['PBKDF2REQUEST', 'SCRYPTREQUEST', 'RANDOMBYTESREQUEST', 'FSREQCALLBACK', 'GETADDRINFOREQWRAP']) expect(isPoolType(type), type).toBe(true);
    const s = summaryOf(sample({ types: [typeStats('HTTPCLIENTREQUEST', { created: 292, callbacks: 852, queueUs: histogram([154_000], bucketOf), queueMaxUs: 154_000 })] }));
    expect(s.byType['HTTPCLIENTREQUEST']!.queueMs).toBeNull();
  });
});

describe('the thread pool with no work', () => {
  it('gives no wait p99 when no request was called back (s4-timers, s5-fanout: "wait p99 ≈0.00 ms")', () => {
    const found = taskFindings(summaryOf(sample()));
    expect(found.find((f) => f.topic === 'thread pool')!.text).toBe('4 threads, up to 0 requests at once, none called back');
  });
});

describe('the live view', () => {
  it('gives no percentile made of no values: a type none of whose callbacks were timed shows its rate alone, a pool with none called back says so', () => {
    const hello: Hello = {
      protocol: PROTOCOL_VERSION, token: 't', probeVersion: '0.1.0', pid: 4100, ppid: 1, nodeVersion: 'v20.0.0',
      platform: 'linux', arch: 'x64', argv: ['/usr/bin/node', 'app.js'], execArgv: [], title: 'node', cwd: '/srv',
      threadId: 0, timeOriginMs: 1.7e12, config: { mode: 'tasks', promises: false, intervalMs: 100, blockThresholdMs: 50 }, loadedBy: 'preload',
    };
    // TCPWRAP: connections made before the interval, called back in it, none timed.
    const tasks = sample({ threadpool: { size: 1, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [] }, types: [typeStats('TCPWRAP', { callbacks: 40 }), typeStats('Immediate', { callbacks: 10, callbackUs: histogram([300], bucketOf), callbackMaxUs: 300 })] });
    const metrics: MetricsSample = {
      timeUs: 1_000_000, intervalUs: 100_000,
      lag: { minUs: 1, meanUs: 20, p50Us: 10, p90Us: 30, p99Us: 900, maxUs: 1000, count: 9, stallMaxUs: 0, percentiles: [[0, 1], [50, 10], [100, 1000]] },
      utilization: 0.25, cpuUserUs: 20_000, cpuSystemUs: 3_000, rssBytes: 5e7, heapUsedBytes: 1e7, heapTotalBytes: 2e7,
      externalBytes: 1e6, arrayBuffersBytes: 1e5, probeMainUs: 0, probeWorkerUs: 0, gc: [], resources: [],
    };
    const lines = renderLiveView(feedOf([{ type: 'hello', hello }, { type: 'metrics', sample: metrics }, { type: 'tasks', sample: tasks }]), { width: 400, elapsedMs: 100, status: undefined, remainingMs: undefined }).map((l) => l.trimEnd());
    expect(lines).toContain(' tasks    TCPWRAP 400/s  Immediate 100/s p99 ≈0.30 ms');
    expect(lines).toContain(' pool     0 of 1 thread busy at most, none called back');
  });
});
