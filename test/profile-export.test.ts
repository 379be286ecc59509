// A recording's CPU samples out of loopscope: `export --format cpuprofile` in the shape
// `node --cpu-prof` writes (DevTools, speedscope), `--format pprof` read by Debian's `go tool
// pprof`, the chrome trace's V8 sample events, and the window's profile of a block's range in
// replay. The recording is of a real process whose blocks are inside JSON.parse.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuProfile } from '../main/reports/cpuprofile';
import type { Summary } from '../main/reports/summary';
import type { SessionUpdate, SessionView, UiEvent } from '../main/ui/ui-api';
import { RecentRecordings } from '../main/ui/recent-recordings';
import { UiBackend } from '../main/ui/ui-backend';
import { loopscope } from './helpers/cli';
import { BLOCKERS, blockLine } from './helpers/blockers';

const run = promisify(execFile);
const GO = ['/usr/bin/go', '/usr/lib/go/bin/go'].find((p) => existsSync(p));

/** Self samples by function name, the most first. */
function selfByFunction(p: CpuProfile): [string, number][] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const id of p.samples) {
    const name = byId.get(id)!.callFrame.functionName;
    self.set(name, (self.get(name) ?? 0) + 1);
  }
  return [...self].sort((a, b) => b[1] - a[1]);
}

const NOT_CODE = new Set(['(idle)', '(garbage collector)', '(program)', '(root)']);

/** Every key seen at each level of a profile: its own, its nodes', their call frames' and position ticks'. */
function shape(p: { nodes: readonly object[] }): Record<string, string[]> {
  const keys = (objects: readonly object[]) => [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
  const nodes = p.nodes as { callFrame: object; positionTicks?: object[] }[];
  return {
    profile: keys([p]),
    node: keys(nodes),
    callFrame: keys(nodes.map((n) => n.callFrame)),
    positionTick: keys(nodes.flatMap((n) => n.positionTicks ?? [])),
  };
}

describe('exporting the CPU samples of a recording', () => {
  let dir: string;
  let file: string;
  let live: Summary;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-profile-export-'));
    file = join(dir, 'parse.rec');
    const r = await loopscope(['run', '--json', '--record', file, '--', process.execPath, BLOCKERS], { KIND: 'json-parse', COUNT: '6', PERIOD_MS: '400' });
    expect(r.code, r.stderr).toBe(0);
    live = JSON.parse(r.stdout) as Summary;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--format cpuprofile: the shape `node --cpu-prof` writes, with the blocking function on top by self time', async () => {
    const out = join(dir, 'parse.cpuprofile');
    const r = await loopscope(['export', file, '--format', 'cpuprofile', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*parse\.cpuprofile \(\d+ samples, .*\): open it in Chrome DevTools/);
    const profile = JSON.parse(readFileSync(out, 'utf8')) as CpuProfile;
    const code = selfByFunction(profile).filter(([name]) => !NOT_CODE.has(name));
    expect(code[0]?.[0], JSON.stringify(code)).toBe('parseBig');
    expect(profile.samples).toHaveLength(profile.timeDeltas.length);
    expect(profile.samples.length).toBe(live.profile!.samples);
    expect(profile.nodes[0]!.callFrame.functionName).toBe('(root)');
    // The parse's line, as V8 counts it for a leaf: 1-based, on the node of parseBig.
    const parse = profile.nodes.find((n) => n.callFrame.functionName === 'parseBig')!;
    expect(parse.callFrame.url).toMatch(/^file:\/\/.*blockers\.js$/);
    expect(parse.positionTicks?.sort((a, b) => b.ticks - a.ticks)[0]?.line).toBe(blockLine('json-parse'));
    // A node's lines count its own samples once each, though the harvests' profiles overlap.
    for (const n of profile.nodes as { hitCount: number; positionTicks?: { ticks: number }[] }[]) {
      if (n.positionTicks) expect(n.positionTicks.reduce((a, p) => a + p.ticks, 0)).toBeLessThanOrEqual(n.hitCount);
    }
    // The same keys at every level as a profile Node itself writes.
    const nodeDir = join(dir, 'node-cpu-prof');
    await run(process.execPath, ['--cpu-prof', '--cpu-prof-dir', nodeDir, '-e', 'let x = 0; for (let i = 0; i < 3e7; i++) x += Math.sqrt(i);']);
    const reference = JSON.parse(readFileSync(join(nodeDir, readdirSync(nodeDir)[0]!), 'utf8')) as CpuProfile;
    expect(shape(profile)).toEqual(shape(reference));
  });

  it('--from and --to take the samples of a part of the recording', async () => {
    const whole = join(dir, 'whole.cpuprofile');
    const part = join(dir, 'part.cpuprofile');
    expect((await loopscope(['export', file, '--format', 'cpuprofile', '-o', whole])).code).toBe(0);
    const r = await loopscope(['export', file, '--format', 'cpuprofile', '--from', '1', '--to', '2', '-o', part]);
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(readFileSync(whole, 'utf8')) as CpuProfile;
    const b = JSON.parse(readFileSync(part, 'utf8')) as CpuProfile;
    expect(b.samples.length).toBeGreaterThan(10);
    expect(b.samples.length).toBeLessThan(a.samples.length * 0.8);
    // About a second of samples at 20 ms.
    expect(b.endTime - b.startTime).toBeGreaterThan(700_000);
    expect(b.endTime - b.startTime).toBeLessThan(1_300_000);
    expect((await loopscope(['export', file, '--format', 'cpuprofile', '--from', '2', '--to', '1', '-o', part])).stderr).toMatch(/--to must come after --from/);
    expect((await loopscope(['export', file, '--from', '1', '-o', part])).stderr).toMatch(/--from and --to select the samples of a cpuprofile or pprof export/);
    expect((await loopscope(['export', file, '--format', 'pprof', '--from', 'soon', '-o', part])).stderr).toMatch(/--from must be a time into the recording/);
  });

  // It wrote an empty profile and exited 0, with a warning of no samples between --from and --to.
  it('--from past the end of the recording is refused, naming the recording\'s length, and writes nothing', async () => {
    const out = join(dir, 'past.pb.gz');
    for (const format of ['cpuprofile', 'pprof']) {
      const r = await loopscope(['export', file, '--format', format, '--from', '1:00', '-o', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^loopscope export: --from 1:00 is past the end of the recording, which is 00:0\d\.\d long \(\d+(\.\d+)? m?s\): give an earlier time\n/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it.skipIf(!GO)('--format pprof: go tool pprof reads it, the blocking function on top, at the line of the parse', async () => {
    const out = join(dir, 'parse.pb.gz');
    const r = await loopscope(['export', file, '--format', 'pprof', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const env = { ...process.env, HOME: dir, GOCACHE: join(dir, 'gocache'), PPROF_TMPDIR: dir };
    const top = (await run(GO!, ['tool', 'pprof', '-top', out], { env })).stdout;
    const functions = top.split('\n').filter((l) => /^\s+[\d.]+m?s\s/.test(l)).map((l) => l.trim().split(/\s+/).pop()!);
    expect(functions.filter((f) => !NOT_CODE.has(f))[0], top).toBe('parseBig');
    expect(top).toMatch(/Type: cpu/);
    const lines = (await run(GO!, ['tool', 'pprof', '-top', '-lines', out], { env })).stdout;
    expect(lines).toMatch(new RegExp(`parseBig .*blockers\\.js:${blockLine('json-parse')}`));
  });

  it('--format chrome-trace: the samples as V8\'s own traces carry them, the parse among them', async () => {
    const out = join(dir, 'parse.json');
    expect((await loopscope(['export', file, '-o', out])).code).toBe(0);
    const events = (JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: { ph: string; name: string; args?: { data?: { cpuProfile?: { nodes: { id: number; callFrame: { functionName: string } }[]; samples: number[] }; timeDeltas?: number[] } } }[] }).traceEvents;
    const chunks = events.filter((e) => e.ph === 'P' && e.name === 'ProfileChunk');
    expect(events.filter((e) => e.ph === 'P' && e.name === 'Profile')).toHaveLength(1);
    const names = new Map(chunks.flatMap((c) => c.args!.data!.cpuProfile!.nodes.map((n) => [n.id, n.callFrame.functionName] as const)));
    const samples = chunks.flatMap((c) => c.args!.data!.cpuProfile!.samples);
    expect(samples.length).toBe(live.profile!.samples);
    expect(chunks.every((c) => c.args!.data!.timeDeltas!.length === c.args!.data!.cpuProfile!.samples.length)).toBe(true);
    expect(samples.filter((id) => names.get(id) === 'parseBig').length).toBeGreaterThan(10);
  });

  it('in replay, the window\'s profile of a group\'s longest block is the parse', async () => {
    const backend = await UiBackend.start({ recordingsDir: join(dir, 'recordings'), recent: new RecentRecordings(join(dir, 'recent.json')) });
    try {
      const events: UiEvent[] = [];
      backend.subscribe((batch) => events.push(...batch));
      const id = await backend.openRecording(file);
      const latest = (): SessionView | undefined => events.filter((e): e is SessionUpdate => e.kind === 'session' && e.view.id === id).pop()?.view;
      await backend.replay(id, { kind: 'seek', t: 1e6 });
      await expect.poll(() => latest()?.blockGroups.find((g) => g.stack.some((f) => f.functionName === 'parseBig'))).toBeDefined();
      const group = latest()!.blockGroups.find((g) => g.stack.some((f) => f.functionName === 'parseBig'))!;
      expect(group.count).toBeGreaterThanOrEqual(3);
      // Back to the start: the profile of the block is read from the file all the same.
      await backend.replay(id, { kind: 'seek', t: 0 });
      const view = await backend.profile(id, group.longestT, group.longestT + group.longestMs / 1000);
      const top = view.functions[0]!;
      expect(view.frames[top.frame]).toMatchObject({ functionName: 'parseBig', kind: 'own' });
      expect(top.lines[0]?.[0]).toBe(blockLine('json-parse'));
      expect(view.samples).toBeGreaterThan(3);
      expect(view.flame.some((n) => view.frames[n.frame]!.functionName === 'parseBig')).toBe(true);
    } finally {
      await backend.shutdown();
    }
  });
});
