// A file without an index (loopscope was killed, or the file is still being written) opened
// for replay: the keyframes come from the last keyframe's trail and the trails before it, not
// from reading every chunk header. It must find exactly what the full scan finds, and fall
// back to the full scan when a trail cannot be followed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingWriter } from '../main/recording/recording-writer';
import { FrameCursor, RecordingReader } from '../main/recording/recording-reader';
import { ChunkKind, FILE_HEADER_BYTES, FOOTER_BYTES, parseChunkHeader, parseFooter, type ChunkHeader } from '../main/recording/format';
import { KEYFRAME_TRAIL } from '../main/recording/recording-index';
import { ReplaySession } from '../main/replay/replay-session';
import { syntheticHello, syntheticSession } from './helpers/recording-synthetic';

const dir = mkdtempSync(join(tmpdir(), 'loopscope-rec-quick-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file as a kill -9 leaves it: everything but the index chunk and the footer. */
let killed: Uint8Array;

beforeAll(async () => {
  const path = join(dir, 'many-keyframes.rec');
  // A keyframe every 2 frames: a few hundred, so the trails must be followed several times.
  const writer = RecordingWriter.create(path, { keyframeMaxFrames: 2 });
  const t0 = Date.now();
  writer.start(syntheticHello, t0);
  for (const f of syntheticSession(600)) writer.write(f.raw, t0 + f.atMs);
  await writer.close({ exitCode: 0, warnings: [] });
  const whole = new Uint8Array(readFileSync(path));
  killed = whole.subarray(0, parseFooter(whole.subarray(whole.length - FOOTER_BYTES), whole.length)!);
});

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function chunks(bytes: Uint8Array): { offset: number; header: ChunkHeader }[] {
  const out: { offset: number; header: ChunkHeader }[] = [];
  for (let at = FILE_HEADER_BYTES; at < bytes.length;) {
    const h = parseChunkHeader(bytes.subarray(at, at + 200));
    if (!h.ok) throw new Error(h.reason);
    out.push({ offset: at, header: h.value });
    at += h.value.headerBytes + h.value.bodyBytes;
  }
  return out;
}

const opened = (path: string, quick: boolean) => {
  const reader = RecordingReader.open(path, { quick });
  const { keyframes, info, warnings, openedFrom } = reader;
  reader.close();
  return { keyframes, info, warnings, openedFrom };
};

describe('a file without an index, opened quickly', () => {
  it('finds every keyframe, the frame count and the end, as reading every header does', () => {
    const path = file('killed.rec', killed);
    const full = opened(path, false);
    const quick = opened(path, true);
    expect([full.openedFrom, quick.openedFrom]).toEqual(['scan', 'trails']);
    expect(full.keyframes.length).toBeGreaterThan(3 * KEYFRAME_TRAIL);
    expect(quick.keyframes).toEqual(full.keyframes);
    expect(quick.info).toEqual(full.info);
    expect(quick.warnings).toEqual(full.warnings);
    expect(quick.warnings.join('\n')).toMatch(/not closed cleanly/);
  });

  it('replays it to the same state as the file with its index', () => {
    const withIndex = ReplaySession.open(file('closed.rec', readFileSync(join(dir, 'many-keyframes.rec'))));
    const without = ReplaySession.open(file('killed-replay.rec', killed));
    for (const at of [0.1, 0.5, 0.97]) {
      const t = without.reader.info.firstMs + at * (without.reader.info.endMs - without.reader.info.firstMs);
      withIndex.seek(t);
      without.seek(t);
      expect(without.state).toEqual(withIndex.state);
    }
    withIndex.reader.close();
    without.reader.close();
  });

  it('does not read the chunks before the last keyframe: damage there is reported when its frames are read', () => {
    const b = killed.slice();
    const target = chunks(b).filter((c) => c.header.kind === ChunkKind.frames)[5]!;
    b[target.offset + 20]! ^= 0xff;
    const path = file('early-damage.rec', b);
    expect(opened(path, false).warnings.join('\n')).toMatch(/damaged at byte \d+/);
    const reader = RecordingReader.open(path, { quick: true });
    expect(reader.warnings.join('\n')).not.toMatch(/damaged/);
    const cursor = new FrameCursor(reader, FILE_HEADER_BYTES);
    while (cursor.next());
    expect(reader.warnings.join('\n')).toMatch(new RegExp(`damaged at byte ${target.offset} .*are lost`));
    reader.close();
  });

  it('falls back to reading every header when a trail on the way is damaged', () => {
    const b = killed.slice();
    const keyframes = chunks(b).filter((c) => c.header.kind === ChunkKind.keyframe);
    // The keyframe whose trail is read second (the oldest in the last one's trail). A keyframe
    // chunk's last byte is in its trail.
    const middle = keyframes[keyframes.length - 1 - KEYFRAME_TRAIL]!;
    b[middle.offset + middle.header.headerBytes + middle.header.bodyBytes - 1]! ^= 0xff;
    const path = file('trail-damage.rec', b);
    const quick = opened(path, true);
    expect(quick.openedFrom).toBe('scan');
    expect(quick.keyframes).toEqual(opened(path, false).keyframes);
    expect(quick.keyframes.length).toBe(keyframes.length);
  });
});
