// Each loop's CPU profile out of a recording (issue 14: export shows every loop): a launcher
// that starts the app 1.5 s late as a child process, whose worker blocks in crunchInWorker
// (three loops: the launcher, the child, its worker; the child's clock starts 1.5 s after the
// launcher's), recorded by `loopscope run --record`, exported with the real CLI. The first loop's profile by default, with a note
// naming the others; --loop n the n-th as `summary` lists them, its --from/--to on the
// recording's time; a loop the file does not have is a one-line error naming those it has.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuProfile } from '../main/reports/cpuprofile';
import type { Summary } from '../main/reports/summary';
import { loopscope } from './helpers/cli';

const run = promisify(execFile);
const GO = ['/usr/bin/go', '/usr/lib/go/bin/go'].find((p) => existsSync(p));
const LAUNCHER = resolve(__dirname, 'fixtures/launcher.js');

const functions = (p: CpuProfile): Set<string> => new Set(p.nodes.map((n) => n.callFrame.functionName));

describe('exporting each loop\'s CPU profile', () => {
  let dir: string;
  let file: string;
  let summary: Summary;
  let child: string;
  let worker: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-loops-profile-'));
    file = join(dir, 'late-child.lsrec');
    const r = await loopscope(['run', '--json', '--record', file, '--', process.execPath, LAUNCHER],
      { APP: 'worker-blocker.js', LAUNCH_DELAY_MS: '1500', WORKERS: '1', COUNT: '3', BLOCK_MS: '150', PERIOD_MS: '400' });
    expect(r.code, r.stderr).toBe(0);
    summary = JSON.parse((await loopscope(['summary', '--json', file])).stdout) as Summary;
    expect(summary.loops.map((l) => l.name)).toEqual(['main', 'main', expect.stringMatching(/^worker \d+ cruncher-0$/)]);
    child = `pid ${summary.loops[1]!.pid} main`;
    worker = `pid ${summary.loops[1]!.pid} ${summary.loops[2]!.name}`;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const profileOf = (out: string): CpuProfile => JSON.parse(readFileSync(out, 'utf8')) as CpuProfile;

  it('writes the first loop\'s by default and names the others; --loop 2 writes the worker\'s, with its blocking function', async () => {
    const first = join(dir, 'first.cpuprofile');
    const r = await loopscope(['export', file, '--format', 'cpuprofile', '-o', first]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`loopscope export: this profile is loop 0 of 3, pid ${summary.pid} main (--loop n chooses another: 0 pid ${summary.pid} main, 1 ${child}, 2 ${worker})\n`);
    expect(functions(profileOf(first))).not.toContain('crunchInWorker');

    const second = join(dir, 'worker.cpuprofile');
    const w = await loopscope(['export', file, '--format', 'cpuprofile', '--loop', '2', '-o', second]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toContain(`loopscope export: this profile is loop 2 of 3, ${worker}\n`);
    const profile = profileOf(second);
    const crunch = profile.nodes.find((n) => n.callFrame.functionName === 'crunchInWorker')!;
    expect(crunch.callFrame.url).toMatch(/worker-blocker\.js$/);
    expect(profile.samples.length).toBeGreaterThan(10);
  });

  it('--from and --to are times into the recording for the worker too', async () => {
    // The worker came 1.5 s in (on its process's clock, which started then): nothing of it before, its samples after.
    const before = join(dir, 'before.cpuprofile');
    const r = await loopscope(['export', file, '--format', 'cpuprofile', '--loop', '2', '--to', '1.3', '-o', before]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: no CPU samples between --from and --to/);
    expect(profileOf(before).samples).toHaveLength(0);
    const after = join(dir, 'after.cpuprofile');
    expect((await loopscope(['export', file, '--format', 'cpuprofile', '--loop', '2', '--from', '1.3', '-o', after])).code).toBe(0);
    expect(profileOf(after).samples.length).toBeGreaterThan(10);
  });

  it('a loop the recording does not have: one line naming those it has, and no file', async () => {
    const out = join(dir, 'none.pb.gz');
    const r = await loopscope(['export', file, '--format', 'pprof', '--loop', '3', '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`loopscope export: --loop 3: the recording has loops 0 to 2: 0 pid ${summary.pid} main, 1 ${child}, 2 ${worker}`);
    expect(existsSync(out)).toBe(false);
    expect((await loopscope(['export', file, '--loop', '1', '-o', out])).stderr).toMatch(/--loop selects the loop of a cpuprofile or pprof export; a chrome-trace holds every loop/);
    expect((await loopscope(['export', file, '--format', 'pprof', '--loop', '0.5', '-o', out])).stderr).toMatch(/--loop must be a whole number/);
  });

  it.skipIf(!GO)('--format pprof --loop 2: go tool pprof reads the worker\'s, with crunchInWorker', async () => {
    const out = join(dir, 'worker.pb.gz');
    const r = await loopscope(['export', file, '--format', 'pprof', '--loop', '2', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const env = { ...process.env, HOME: dir, GOCACHE: join(dir, 'gocache'), PPROF_TMPDIR: dir };
    const top = (await run(GO!, ['tool', 'pprof', '-top', out], { env })).stdout;
    expect(top).toMatch(/Type: cpu/);
    expect(top).toMatch(/ crunchInWorker\n/);
    const lines = (await run(GO!, ['tool', 'pprof', '-top', '-lines', out], { env })).stdout;
    // At its busy line where samples land in it, at its own line where they land in performance.now.
    expect(lines).toMatch(/crunchInWorker .*worker-blocker\.js:1[13]\n/);
  });
});
