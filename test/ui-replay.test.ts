// Recording from the UI and replaying in it, through the backend the window and the web host
// share: a real target, recorded from the middle of its session with the record button's
// call, then opened for replay, scanned for marks, scrubbed, played and closed. And the
// web host's upload, which is how a browser opens a file it picked.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUpdate, SessionView, UiEvent } from '../main/ui/ui-api';
import { RecentRecordings } from '../main/ui/recent-recordings';
import { userFrames } from '../main/common/format';
import { UiBackend } from '../main/ui/ui-backend';
import { startWebHost, type WebHost } from '../main/web-host/web-host';
import { KEPT_UPLOADS } from '../main/web-host/upload';

const FIXTURE = resolve(__dirname, 'fixtures/ui-target.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recording and replaying from the UI backend', () => {
  let dir: string;
  let backend: UiBackend;
  // Launched, not attached: attach tests elsewhere in the suite want port 9229 to themselves.
  let targetPid = 0;
  const events: UiEvent[] = [];
  const latest = (id: string): SessionView | undefined => events.filter((e): e is SessionUpdate => e.kind === 'session' && e.view.id === id).pop()?.view;
  let recording = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-ui-replay-'));
    backend = await UiBackend.start({ recordingsDir: join(dir, 'recordings'), recent: new RecentRecordings(join(dir, 'recent.json')) });
    backend.subscribe((batch) => events.push(...batch));
  });

  afterAll(async () => {
    await backend.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a live session from the middle, with the time and size so far', async () => {
    // A threshold well under the 200 ms block and over what a loaded machine makes of the idle
    // loop: the test counts the block it caused, and only that.
    const id = await backend.launch([process.execPath, FIXTURE], { blockThresholdMs: 100 }, { env: { BLOCK_MS: '200' } });
    await expect.poll(() => (targetPid = latest(id)?.pid ?? 0)).toBeGreaterThan(0);
    await sleep(1000);
    recording = await backend.startRecording(id);
    expect(recording.startsWith(join(dir, 'recordings'))).toBe(true);
    await sleep(700);
    process.kill(targetPid, 'SIGUSR2');
    await expect.poll(() => latest(id)?.blocked.some((b) => !b.ongoing && b.stack.some((f) => f.functionName === 'blockTheLoop')), { timeout: 5000 }).toBe(true);
    await sleep(700);
    const during = latest(id)!.recording!;
    expect(during.file).toBe(recording);
    expect(during.bytes).toBeGreaterThan(32);
    expect(during.error).toBeNull();
    await backend.stopRecording(id);
    await sleep(100);
    expect(latest(id)!.recording).toBeNull();
    await backend.close(id);
    expect(events[events.length - 1]).toEqual({ kind: 'closed', id });
    // Closing a launched session stops its program.
    await expect.poll(() => { try { process.kill(targetPid, 0); return true; } catch { return false; } }, { timeout: 5000 }).toBe(false);
    expect((await backend.recentRecordings())[0]).toMatchObject({ file: recording, problem: null });
  });

  it('replays it: marks on the scrubber, seek before and after the block, play, step, close', async () => {
    const id = await backend.openRecording(recording);
    await expect.poll(() => latest(id)?.replay?.scanned, { timeout: 5000 }).toBe(1);
    const view = latest(id)!;
    const replay = view.replay!;
    expect(view).toMatchObject({ status: 'replay', how: 'replay', pid: targetPid });
    expect(replay).toMatchObject({ complete: true, playing: false, speed: 1, warnings: [] });
    expect(replay.endS - replay.startS).toBeGreaterThan(1);
    const marks = replay.marks.filter((m) => m.kind === 'blocked');
    expect(marks).toHaveLength(1);
    expect(marks[0]!.durationMs).toBeGreaterThanOrEqual(190);
    // The mark is on the charts' clock: where the session's own report puts the block.
    await backend.replay(id, { kind: 'seek', t: replay.endS });
    await sleep(100);
    const endUpdate = events.filter((e): e is SessionUpdate => e.kind === 'session' && e.view.id === id).pop()!;
    // Every sample up to the end, for the charts: about one per 100 ms of the recording.
    expect(endUpdate.reset).toBe(true);
    expect(endUpdate.points.length).toBeGreaterThan((replay.endS - replay.startS) * 5);
    const atEnd = endUpdate.view;
    // The interrupt may land inside Node's performance.now() (a builtin on top): the first frame of the target's own code.
    expect(userFrames(atEnd.blocked[0]!.stack)[0]!.functionName).toBe('blockTheLoop');
    expect(Math.abs(atEnd.blocked[0]!.t - marks[0]!.t)).toBeLessThan(0.001);

    await backend.replay(id, { kind: 'seek', t: marks[0]!.t - 0.3 });
    await sleep(100);
    const before = events.filter((e): e is SessionUpdate => e.kind === 'session' && e.view.id === id).pop()!;
    expect(before.reset).toBe(true);
    expect(before.view.blocked).toHaveLength(0);
    expect(before.view.replay!.positionS).toBeCloseTo(marks[0]!.t - 0.3, 1);

    await backend.replay(id, { kind: 'speed', speed: 4 });
    await backend.replay(id, { kind: 'play' });
    await expect.poll(() => latest(id)?.blocked.length, { timeout: 3000 }).toBe(1);
    await backend.replay(id, { kind: 'pause' });
    await sleep(100);
    const paused = latest(id)!.replay!;
    expect(paused).toMatchObject({ playing: false, speed: 4 });
    await backend.replay(id, { kind: 'step' });
    await sleep(50);
    expect(latest(id)!.replay!.positionS).toBeGreaterThanOrEqual(paused.positionS);

    await expect(backend.configure(id, { mode: 'tasks' })).rejects.toThrow(/replayed recording/);
    await expect(backend.startRecording(id)).rejects.toThrow(/replayed recording/);
    await backend.close(id);
    await expect(backend.replay(id, { kind: 'play' })).rejects.toThrow(/no session/);
  });

  it('says what is wrong with a file that is not a recording', async () => {
    const junk = join(dir, 'junk.lsrec');
    writeFileSync(junk, 'hello, not a recording');
    await expect(backend.openRecording(junk)).rejects.toThrow(/is not a loopscope recording/);
    await expect(backend.openRecording(join(dir, 'missing.lsrec'))).rejects.toThrow(/cannot open/);
  });

  describe('the web host\'s upload', () => {
    let host: WebHost;
    let uploads: string;
    beforeAll(async () => {
      uploads = join(dir, 'uploads');
      host = await startWebHost({ api: backend, root: dir, uploadDir: uploads });
    });
    afterAll(() => host.close());

    const post = (path: string, body: Uint8Array, headers: Record<string, string> = {}) =>
      fetch(`http://127.0.0.1:${host.port}/${path}`, { method: 'POST', body, headers: { origin: `http://127.0.0.1:${host.port}`, ...headers } });

    it('keeps the file it was sent and opens it for replay', async () => {
      const res = await post(`${host.token}/upload?name=${encodeURIComponent('../../evil name.lsrec')}`, readFileSync(recording));
      expect(res.status).toBe(200);
      const { id } = await res.json() as { id: string };
      await expect.poll(() => latest(id)?.replay?.file ?? '').toMatch(/\/uploads\/\d+-evil_name\.lsrec$/);
      expect(existsSync(latest(id)!.replay!.file)).toBe(true);
      await backend.close(id);
    });

    it('refuses a file that is not a recording, and does not keep it', async () => {
      const res = await post(`${host.token}/upload?name=notes.txt`, new TextEncoder().encode('just some notes'));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/notes\.txt is not a loopscope recording/);
      expect(existsSync(uploads) ? readdirSync(uploads).filter((f) => f.endsWith('notes.txt')) : []).toEqual([]);
    });

    it('checks the header before it writes anything: the refusal comes while the body is still being sent', async () => {
      rmSync(uploads, { recursive: true, force: true });
      const req = request({ host: '127.0.0.1', port: host.port, method: 'POST', path: `/${host.token}/upload?name=big.bin`, headers: { origin: `http://127.0.0.1:${host.port}`, 'content-length': String(1024 ** 3) } });
      req.on('error', () => undefined);
      const answered = new Promise<{ status: number | undefined; body: string }>((ok) => req.once('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d)).once('end', () => ok({ status: res.statusCode, body }));
      }));
      req.write(new Uint8Array(64 * 1024).fill(0x42)); // 64 kB of a body said to be 1 GB: the rest never comes
      const { status, body } = await answered;
      req.destroy();
      expect(status).toBe(400);
      expect(JSON.parse(body).error).toMatch(/^big\.bin is not a loopscope recording/);
      expect(existsSync(uploads)).toBe(false);
    });

    it('keeps the newest uploads and none older than a week', async () => {
      mkdirSync(uploads, { recursive: true });
      const now = Date.now();
      const old = [`${now - 8 * 24 * 3600_000}-old.lsrec`, `${now - 30 * 24 * 3600_000}-older.lsrec`];
      const recent = Array.from({ length: KEPT_UPLOADS + 5 }, (_, i) => `${now - (i + 1) * 60_000}-recent${i}.lsrec`);
      for (const name of [...old, ...recent]) writeFileSync(join(uploads, name), 'x');
      const res = await post(`${host.token}/upload?name=new.lsrec`, readFileSync(recording));
      expect(res.status).toBe(200);
      await backend.close(((await res.json()) as { id: string }).id);
      const kept = readdirSync(uploads);
      expect(kept).toHaveLength(KEPT_UPLOADS);
      expect(kept.filter((n) => n.endsWith('-new.lsrec'))).toHaveLength(1);
      expect(kept).toEqual(expect.arrayContaining(recent.slice(0, KEPT_UPLOADS - 1)));
    });

    it('refuses an upload without the token, or from another site', async () => {
      expect((await post('wrong-token/upload?name=x', new Uint8Array(4))).status).toBe(403);
      expect((await post(`${host.token}/upload?name=x`, new Uint8Array(4), { origin: 'http://evil.example' })).status).toBe(403);
    });
  });
});
