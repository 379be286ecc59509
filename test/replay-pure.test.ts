// The pure parts of recording and replaying in the UI: the recent list, the scrubber's
// marks and times, the one-seek-at-a-time rule, upload names, replay commands from a
// transport, and the editor command for a stack frame.

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editorCommand, frameFile, openInEditor } from '../main/ui/open-in-editor';
import { keepLongest } from '../main/ui/replay-marks';
import { withFinalReports } from '../main/replay/final-reports';
import { applyMessage, initialSessionState } from '../main/session/session-state';
import type { BlockedReport } from '../probe/wire';
import { MAX_RECENT, parseRecent, withRecent } from '../main/ui/recent-recordings';
import { CallError, parseReplayCommand } from '../main/ui/ui-calls';
import type { ReplayMark } from '../main/ui/ui-api';
import { uploadName } from '../main/web-host/upload';
import { latestOnly } from '../renderer/replay/latest-only';
import { formatReplayTime, markColumns } from '../renderer/replay/scrubber';

describe('the recent recordings list', () => {
  it('reads what it can of a damaged list, newest first, each file once', () => {
    const text = JSON.stringify([
      { file: '/a.lsrec', atMs: 1 }, { file: 'relative.lsrec', atMs: 5 }, { file: '/b.lsrec', atMs: 3 },
      { file: '/a.lsrec', atMs: 4 }, null, { file: '/c.lsrec' }, 'x',
    ]);
    expect(parseRecent(text)).toEqual([{ file: '/a.lsrec', atMs: 4 }, { file: '/b.lsrec', atMs: 3 }]);
    expect(parseRecent('{not json')).toEqual([]);
    expect(parseRecent('{"file":"/a"}')).toEqual([]);
  });

  it('puts a new one first and keeps at most MAX_RECENT', () => {
    const many = Array.from({ length: MAX_RECENT + 5 }, (_, i) => ({ file: `/r${i}.lsrec`, atMs: i }));
    const list = withRecent(many, [{ file: '/new.lsrec', atMs: 1000 }]);
    expect(list).toHaveLength(MAX_RECENT);
    expect(list[0]!.file).toBe('/new.lsrec');
    expect(list[1]!.file).toBe(`/r${MAX_RECENT + 4}.lsrec`);
  });
});

describe('the scrubber', () => {
  const mark = (kind: ReplayMark['kind'], t: number, durationMs: number): ReplayMark => ({ kind, t, durationMs });

  it('puts one mark per column, blocked loops over GC pauses, the longest named', () => {
    const marks = [mark('gc', 1, 12), mark('blocked', 1.01, 60), mark('blocked', 1.02, 90), mark('gc', 9, 30), mark('blocked', 20, 1)];
    const cols = markColumns(marks, 0, 10, 10);
    expect(cols).toEqual([
      { at: 0.15, kind: 'blocked', count: 2, longest: marks[2] },
      { at: 0.95, kind: 'gc', count: 1, longest: marks[3] },
    ]);
    expect(markColumns(marks, 5, 5, 10)).toEqual([]);
  });

  it('marks a block that began before the scrubber\'s start in its first column', () => {
    const early = mark('blocked', -0.04, 75);
    expect(markColumns([early, mark('gc', 0.5, 12)], 0.04, 10, 10)).toEqual([{ at: 0.05, kind: 'blocked', count: 1, longest: early }]);
  });

  it('formats times as minutes, seconds and tenths', () => {
    expect(formatReplayTime(0)).toBe('0:00.0');
    expect(formatReplayTime(62.46)).toBe('1:02.5');
    expect(formatReplayTime(-0.1)).toBe('-0:00.1');
  });

  it('keeps the longest marks in time order when there are too many', () => {
    const marks = [mark('gc', 1, 10), mark('gc', 2, 50), mark('gc', 3, 20), mark('gc', 4, 50), mark('gc', 5, 20)];
    expect(keepLongest(marks, 3).map((m) => m.t)).toEqual([2, 3, 4]);
  });

  it('runs one seek at a time, and only the latest of those asked for meanwhile', async () => {
    const ran: number[] = [];
    let finish: () => void = () => undefined;
    const seek = latestOnly((t: number) => {
      ran.push(t);
      return new Promise<void>((r) => (finish = r));
    }, () => undefined);
    seek(1);
    seek(2);
    seek(3);
    expect(ran).toEqual([1]);
    finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(ran).toEqual([1, 3]);
    finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(ran).toEqual([1, 3]);
  });
});

describe('a replayed block\'s final report', () => {
  const frame = (functionName: string) => ({ functionName, url: 'file:///app.js', lineNumber: 3, columnNumber: 1, scriptId: '1' });
  const report = (id: number, state: BlockedReport['state'], durationUs: number, more: Partial<BlockedReport> = {}): BlockedReport => ({
    id, state, startUs: id * 1_000_000, durationUs, stack: [frame('parseBig')], stackSource: 'interrupt', ...more,
  });

  it('shows a block going on as its final report has it: the same duration, stack and place as once it ends', () => {
    const ended = applyMessage(initialSessionState, { type: 'blocked', report: report(1, 'ended', 72_390, { stackSource: 'samples' }) });
    const state = applyMessage(applyMessage(ended, { type: 'blocked', report: report(2, 'ongoing', 55_683) }), { type: 'blocked', report: report(3, 'ongoing', 51_000, { stack: [] }) });
    const final2 = report(2, 'ended', 50_015, { stack: [{ ...frame('parseBig'), columnNumber: 9 }], stackSource: 'samples', samples: 2, sampled: 2 });
    const shown = withFinalReports(state, new Map([[2, final2]]));
    expect(shown.blocked.find((b) => b.id === 2)).toEqual(final2);
    // Without a final report (not found yet, or cancelled): as it is.
    expect(shown.blocked.find((b) => b.id === 3)).toMatchObject({ state: 'ongoing', durationUs: 51_000 });
    expect(shown.totals.blockedCount).toBe(3);
    expect(shown.blockGroups.map((g) => [g.count, g.maxUs])).toEqual([[2, 72_390]]);
    expect(applyMessage(state, { type: 'blocked', report: final2 })).toEqual(shown);
    expect(withFinalReports(state, new Map())).toBe(state);
  });
});

describe('calls and files from outside', () => {
  it('checks replay commands', () => {
    expect(parseReplayCommand({ kind: 'play' })).toEqual({ kind: 'play' });
    expect(parseReplayCommand({ kind: 'seek', t: 1.5, extra: 1 })).toEqual({ kind: 'seek', t: 1.5 });
    expect(parseReplayCommand({ kind: 'pause', t: 3.25 })).toEqual({ kind: 'pause', t: 3.25 });
    expect(parseReplayCommand({ kind: 'pause' })).toEqual({ kind: 'pause' });
    expect(() => parseReplayCommand({ kind: 'pause', t: 'now' })).toThrow(CallError);
    expect(() => parseReplayCommand({ kind: 'speed', speed: 100 })).toThrow(new CallError('speed must be a number from 0.25 to 16'));
    expect(() => parseReplayCommand({ kind: 'seek', t: 'soon' })).toThrow(CallError);
    expect(() => parseReplayCommand({ kind: 'rewind' })).toThrow(/play, pause, step, speed, seek/);
    expect(() => parseReplayCommand(null)).toThrow(/must be an object/);
  });

  it('names an uploaded file safely, whatever the browser called it', () => {
    expect(uploadName('../../etc/passwd', 7)).toBe('7-passwd');
    expect(uploadName('C:\\Users\\me\\my run.lsrec', 7)).toBe('7-my_run.lsrec');
    expect(uploadName('..', 7)).toBe('7-recording.lsrec');
    expect(uploadName(null, 7)).toBe('7-recording.lsrec');
  });

  it('opens only local files, by an editor command without a shell', () => {
    expect(frameFile('file:///home/me/app.js')).toBe('/home/me/app.js');
    expect(frameFile('/home/me/app.js')).toBe('/home/me/app.js');
    expect(frameFile('node:internal/timers')).toBeUndefined();
    expect(frameFile('app.js')).toBeUndefined();
    expect(editorCommand('code  --goto {file}:{line}:{column}', '/a b.js', 3, 9)).toEqual(['code', '--goto', '/a b.js:3:9']);
  });
});

describe('opening a frame in the editor', () => {
  it('runs the editor command with the file and position, and refuses what is not a local source file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-editor-'));
    try {
      const editor = join(dir, 'editor.sh');
      const out = join(dir, 'args.txt');
      writeFileSync(editor, `#!/bin/sh\necho "$@" > '${out}'\n`);
      chmodSync(editor, 0o755);
      const source = join(dir, 'app.js');
      writeFileSync(source, 'blockTheLoop();\n');
      const env = { ...process.env, LOOPSCOPE_EDITOR: `${editor} --goto {file}:{line}:{column}` };
      await openInEditor(`file://${source}`, 12, 3, env);
      await expect.poll(() => { try { return readFileSync(out, 'utf8'); } catch { return ''; } }).toBe(`--goto ${source}:12:3\n`);
      await expect(openInEditor(editor, 1, 1, env)).rejects.toThrow(/does not look like a source file/);
      await expect(openInEditor(join(dir, 'gone.js'), 1, 1, env)).rejects.toThrow(/is not on this machine/);
      await expect(openInEditor('node:internal/timers', 1, 1, env)).rejects.toThrow(/not a file on this machine/);
      await expect(openInEditor(source, 1, 1, { PATH: '' })).rejects.toThrow(/set LOOPSCOPE_EDITOR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
