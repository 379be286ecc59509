// Bad files: truncated, corrupted in the middle, wrong version, not a recording, empty,
// damaged index, impossible sizes. Each gets one clear line, or a partial read with a warning
// that says what was lost; never a stack trace, a crash or a hang. Then a fuzzer mutates real
// recordings a thousand ways.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingWriter } from '../main/recording/recording-writer';
import { RecordingReader } from '../main/recording/recording-reader';
import { summarizeRecording } from '../main/reports/recording-summary';
import { crc32 } from '../main/recording/crc32';
import { fsReason, RecordingError } from '../main/recording/errors';
import { FOOTER_BYTES, parseChunkHeader } from '../main/recording/format';
import { launch } from '../main/launch/launch';
import { probePath } from '../main/launch/probe-path';
import { startProbeServer } from '../main/server/probe-server';
import type { MessageTypeId } from '../probe/wire';
import { FIXTURES } from './helpers/probe-harness';
import { syntheticHello, syntheticSession } from './helpers/recording-synthetic';
import { mutate, rng, runCase } from './helpers/recording-fuzz';
import { loopscope, loopscopeInTerminal } from './helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'loopscope-rec-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let good: Uint8Array;
let goodPath: string;
let real: Uint8Array;

async function syntheticRecording(): Promise<Uint8Array> {
  const path = join(dir, 'synthetic.rec');
  const writer = RecordingWriter.create(path, { keyframeMaxFrames: 100 });
  const t0 = Date.now();
  writer.start(syntheticHello, t0);
  syntheticSession(300).forEach((f, i) => {
    writer.write(f.raw, t0 + f.atMs);
    if (i % 5 === 0) writer.write({ type: 42 as MessageTypeId, payload: Uint8Array.from({ length: 200 }, (_, j) => (i * j) & 0xff) }, t0 + f.atMs);
  });
  await writer.close({ exitCode: 0, warnings: [] });
  return new Uint8Array(readFileSync(path));
}

/** A real recording: the blocker fixture through the real probe, as `run --record` does it. */
async function realRecording(): Promise<Uint8Array> {
  const path = join(dir, 'real.rec');
  const server = await startProbeServer();
  const writer = RecordingWriter.create(path, { keyframeMaxFrames: 8 });
  server.onConnection((c) => {
    writer.start(c.hello);
    c.on('frame', (raw, at) => writer.write(raw, at));
  });
  const child = launch({
    command: process.execPath, args: [join(FIXTURES, 'blocker.js')], probeFile: probePath(), socketPath: server.address, token: server.issueToken(),
    config: { mode: 'tasks', promises: false, intervalMs: 50, blockThresholdMs: 30 }, stdio: 'ignore',
    env: { ...process.env, BLOCK_MS: '40', PERIOD_MS: '150', COUNT: '3' },
  });
  await new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  await server.close();
  await writer.close({ exitCode: 0, warnings: [] });
  return new Uint8Array(readFileSync(path));
}

beforeAll(async () => {
  good = await syntheticRecording();
  goodPath = join(dir, 'good.rec');
  writeFileSync(goodPath, good);
  real = await realRecording();
});


function file(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function newerVersion(): Uint8Array {
  const b = good.slice();
  b[8] = 3;
  new DataView(b.buffer).setUint32(28, crc32(b.subarray(0, 28)), true);
  return b;
}

describe('bad files get one clear line and a distinct exit code', () => {
  it.each([
    ['empty', () => file('empty.rec', ''), 65, /empty\.rec is empty: it is not a loopscope recording/],
    ['not a recording', () => file('trace.json', '{"traceEvents":[]}\n'), 65, /trace\.json is not a loopscope recording/],
    // Its size is 0, and it was called empty: what a file of /proc holds is read, whatever its size.
    ['a file of /proc', () => '/proc/self/status', 65, /^loopscope \w+: \/proc\/self\/status is not a loopscope recording \(it does not start like a loopscope recording\)\n$/],
    ['a newer version', () => file('v3.rec', newerVersion()), 65, /version 3 recording, and this loopscope reads version 2: update loopscope/],
    ['cut inside its header', () => file('stub.rec', good.subarray(0, 12)), 65, /stub\.rec cannot be read: it ends after 12 bytes/],
    ['missing', () => join(dir, 'nope.rec'), 66, /cannot open .*nope\.rec: no such file/],
    ['a folder', () => (mkdirSync(join(dir, 'folder.rec'), { recursive: true }), join(dir, 'folder.rec')), 66, /cannot open .*folder\.rec: it is a folder/],
    // Opened as a file, a FIFO waits for a writer: for ever.
    ['a FIFO', () => (execFileSync('mkfifo', [join(dir, 'pipe.rec')]), join(dir, 'pipe.rec')), 66, /cannot open .*pipe\.rec: it is not a regular file \(a FIFO\)/],
  ])('%s', async (_what, make, code, message) => {
    const path = make();
    for (const args of [['summary', path], ['summary', '--json', path], ['export', path, '-o', join(dir, 'out.json')]]) {
      const r = await loopscope(args, {}, 20_000);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('a recording that cannot be written is refused before anything starts', () => {
    expect(() => RecordingWriter.create(join(dir, 'no', 'such', 'dir', 's.rec'))).toThrow(/^cannot record to .*s\.rec: no such file or folder$/);
    // A device is never opened for a recording (as root, one could be written over).
    expect(() => RecordingWriter.create('/dev/full')).toThrow(/^cannot record to \/dev\/full: it is not a regular file \(a device\); a recording is written at positions and read back by seeking: give the path of a file$/);
  });

  it('an unwritable export target', async () => {
    const r = await loopscope(['export', goodPath, '-o', join(dir, 'no', 'such', 'dir', 'out.json')]);
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/cannot write .*out\.json: no such file or folder/);
  });

  it('an export onto its own recording is refused, by any name, and the recording kept', async () => {
    const path = file('self.rec', good);
    linkSync(path, join(dir, 'self-link.rec'));
    for (const out of [path, join(dir, '.', 'self.rec'), join(dir, 'self-link.rec')]) {
      const r = await loopscope(['export', path, '--format', 'cpuprofile', '-o', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^loopscope export: -o .*\.rec is the recording itself, which the export would overwrite: give another output file\n/);
    }
    expect(readFileSync(path)).toEqual(Buffer.from(good));
  });

  it('an export into a FIFO goes at its reader\'s pace; one whose reader leaves fails, and the FIFO stays', async () => {
    const copy = join(dir, 'copy.json');
    expect((await loopscope(['export', goodPath, '-o', copy])).code).toBe(0);
    const size = statSync(copy).size;
    // Over a pipe's buffer (64 kB): the export waits for its reader (the FIFO is opened non-blocking).
    expect(size).toBeGreaterThan(128 * 1024);
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    // A reader that opens the FIFO without waiting for a writer, and reads nothing for a while.
    const reader = (script: string): Promise<ChildProcess> => new Promise((ready) => {
      const child = spawn('sh', ['-c', `exec 3<>"$0"; echo ready; ${script}`, fifo, String(size), join(dir, 'through.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout.once('data', () => ready(child));
    });
    const slow = await reader('sleep 1; head -c "$1" <&3 > "$2"');
    const done = new Promise((r) => slow.once('exit', r));
    const r = await loopscope(['export', goodPath, '-o', fifo]);
    expect(r.code, r.stderr).toBe(0);
    await done;
    expect(readFileSync(join(dir, 'through.json'))).toEqual(readFileSync(copy));
    // Gone before the export is through: the export fails, and removes nothing but what it made.
    await reader('sleep 0.5');
    const broken = await loopscope(['export', goodPath, '-o', fifo]);
    expect(broken.code).toBe(73);
    expect(broken.stderr).toMatch(/cannot write .*out\.fifo: /);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  // It said ENXIO ("no such device or address"), which tells a user nothing.
  it('an export into a FIFO nothing reads says so at once, and what to do', async () => {
    const fifo = join(dir, 'unread.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await loopscope(['export', goodPath, '-o', fifo], {}, 20_000);
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/^loopscope export: cannot write .*unread\.fifo: it is a FIFO that nothing reads: start its reader first \(export does not wait for one\)\n$/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('recordings and exports are the user\'s alone (0600), and never written through a symbolic link', async () => {
    const victim = file('victim.txt', 'precious');
    symlinkSync(victim, join(dir, 'link.rec'));
    expect(() => RecordingWriter.create(join(dir, 'link.rec'))).toThrow(/^cannot record to .*link\.rec: it is a symbolic link, which loopscope does not write through/);
    const run = await loopscope(['run', '--record', join(dir, 'link.rec'), '--json', '--', process.execPath, '-e', '0']);
    expect(run.code).toBe(73);
    expect(run.stderr).toMatch(/it is a symbolic link/);
    const exported = await loopscope(['export', goodPath, '-o', join(dir, 'link.rec')]);
    expect(exported.code).toBe(73);
    expect(exported.stderr).toMatch(/cannot write .*link\.rec: it is a symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('precious');

    const writer = RecordingWriter.create(join(dir, 'private.rec'));
    await writer.close();
    expect(statSync(join(dir, 'private.rec')).mode & 0o777).toBe(0o600);
    const existing = file('existing.json', 'old');
    chmodSync(existing, 0o644);
    expect((await loopscope(['export', goodPath, '-o', existing])).code).toBe(0);
    expect(statSync(existing).mode & 0o777).toBe(0o600);
  });

  it('replay without a terminal says what to use instead', async () => {
    const r = await loopscope(['replay', goodPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs a terminal');
  });

  it('file system errors read as reasons', () => {
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: raw`), { code });
    expect(fsReason(err('EIO'))).toMatch(/input\/output error \(a failing disk/);
    expect(fsReason(err('EAGAIN'))).toMatch(/cannot be read without waiting/);
    expect(fsReason(err('EDQUOT'))).toBe('the disk quota is used up');
    expect(fsReason(err('EXDEV'))).toBe('EXDEV: raw');
  });

  it('replay --from past the end says how long the recording is', () => {
    const r = loopscopeInTerminal(['replay', goodPath, '--from', '99:00']);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stdout).toMatch(/loopscope replay: --from 99:00 is past the end of the recording, which is \d\d:\d\d\.\d long: give an earlier time/);
  });
});

describe('damaged files are read as far as they can be, saying what was lost', () => {
  it('half-copied: everything up to the cut, and where it was cut', async () => {
    const path = file('half.rec', good.subarray(0, Math.floor(good.length / 2)));
    const r = await loopscope(['summary', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/warning: .*half\.rec ends in a chunk cut short: the last .* \(after \d\d:\d\d\.\d\) are missing/);
    expect(r.stdout).toMatch(/warning: .*not closed cleanly/);
    expect(r.stdout).toMatch(/\d+ samples/);
  });

  it('corrupted in the middle: the rest is read, and the lost time range is named', () => {
    const b = good.slice();
    // The body of the first frames chunk past the middle of the file.
    let at = 32;
    for (;;) {
      const h = parseChunkHeader(b.subarray(at, at + 200));
      if (!h.ok) throw new Error(h.reason);
      if (at > b.length / 2 && h.value.kind === 1) {
        b.fill(0xaa, at + h.value.headerBytes, at + h.value.headerBytes + 50);
        break;
      }
      at += h.value.headerBytes + h.value.bodyBytes;
    }
    const reader = RecordingReader.open(file('middle.rec', b));
    const s = summarizeRecording(reader);
    expect(s.summary.warnings.join('\n')).toMatch(/damaged .*frames between \d\d:\d\d\.\d and \d\d:\d\d\.\d are lost/);
    // Everything but the damaged stretch is there: the end state comes from the last keyframe.
    expect(s.summary.samples).toBe(300);
    reader.close();
  });

  it('a damaged chunk header without an index: skipped by searching for the next chunk', () => {
    const b = good.slice(0, good.length - 100);
    // The third chunk's header: after the first two, whose headers say how long they are.
    let at = 32;
    for (let i = 0; i < 2; i++) {
      const h = parseChunkHeader(b.subarray(at, at + 200));
      if (!h.ok) throw new Error(h.reason);
      at += h.value.headerBytes + h.value.bodyBytes;
    }
    b[at + 20]! ^= 0xff;
    const reader = RecordingReader.open(file('header.rec', b));
    expect(reader.warnings.join('\n')).toMatch(/damaged at byte \d+ .*are lost/);
    const s = summarizeRecording(reader);
    expect(s.summary.samples).toBeGreaterThan(200);
    reader.close();
  });

  it('a damaged index: rebuilt by scanning, nothing lost', () => {
    const b = good.slice();
    b[b.length - FOOTER_BYTES - 5]! ^= 0xff;
    const reader = RecordingReader.open(file('index.rec', b));
    expect(reader.info.frames).toBe(RecordingReader.open(goodPath).info.frames);
    expect(summarizeRecording(reader).summary.samples).toBe(300);
    reader.close();
  });

  it('a chunk that claims an impossible size is damage, not an allocation', () => {
    const b = good.slice();
    // The first chunk's first section says 4 GB stored: the header checksum no longer matches,
    // and with it fixed, the size limit refuses it.
    const v = new DataView(b.buffer);
    v.setUint32(32 + 48 + 8, 0xffffff00, true);
    const reader = RecordingReader.open(file('huge.rec', b));
    expect(summarizeRecording(reader).summary.samples).toBeGreaterThan(0);
    reader.close();
  });

  it('nothing but a header: no frames, and it says so', () => {
    const reader = RecordingReader.open(file('header-only.rec', good.subarray(0, 32)));
    expect(summarizeRecording(reader).summary.warnings.join()).toContain('holds no frames');
    reader.close();
  });
});

describe('fuzz', () => {
  const CASES = 1000;

  it(`${CASES} mutations of real recordings: no crash, no hang, bounded memory`, () => {
    const r = rng(20_261_121);
    const path = join(dir, 'fuzz.rec');
    const heapBefore = process.memoryUsage().heapUsed;
    const outcomes = { error: 0, read: 0 };
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      const base = i % 2 === 0 ? real : good;
      let bytes = mutate(base, r);
      if (r() < 0.3) bytes = mutate(bytes, r);
      const started = performance.now();
      let result;
      try {
        result = runCase(path, bytes, r);
      } catch (err) {
        throw new Error(`fuzz case ${i} threw ${err instanceof Error ? err.stack : String(err)}`);
      }
      slowest = Math.max(slowest, performance.now() - started);
      outcomes[result.kind]++;
      if (result.kind === 'error') expect(result.message).not.toContain('\n');
    }
    expect(outcomes.read).toBeGreaterThan(CASES / 2);
    expect(slowest).toBeLessThan(2000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it('never throws anything but a RecordingError on open', () => {
    expect(() => RecordingReader.open(file('junk.rec', Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff)))).toThrow(RecordingError);
  });
});
