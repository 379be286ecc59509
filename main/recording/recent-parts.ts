// Where the recent samples are in a recording being written: what a keyframe points at so
// that a reader rebuilds the samples its views keep (up to RECENT_SAMPLES) without reading ten
// minutes of chunks. Runs inside the chunk file's queue. One per loop: its samples chunks hold
// that loop's samples only.

import { MessageType, PROTOCOL_VERSION } from '../../probe/wire';
import { RECENT_SAMPLES } from '../session/sample-ring';
import { deflate, type ChunkFile } from './chunk-file';
import { ChunkKind, Lane, SectionBuilder } from './format';
import type { RecentPart } from './keyframe';

export interface RecordedFrame {
  readonly seq: number;
  readonly loop: number;
  readonly timeMs: number;
  readonly payload: Uint8Array;
}

/**
 * Up to SAMPLES_PER_BLOCK metrics samples in a row, and the frames chunks they are in. When
 * they are spread over more than SAMPLES_SPREAD_BYTES of file (bulk data between them, in
 * trace mode) or over more than SAMPLES_SPREAD_CHUNKS chunks (a chunk every 500 ms, in
 * metrics mode), the full block is copied into a samples chunk, so that rebuilding `recent`
 * at a seek reads and inflates a few chunks rather than every chunk of ten minutes.
 */
interface RecentBlock {
  from: number;
  to: number;
  chunks: number;
  frames: RecordedFrame[];
}
const SAMPLES_PER_BLOCK = 300;
const SAMPLES_SPREAD_BYTES = 1024 * 1024;
const SAMPLES_SPREAD_CHUNKS = 16;
/**
 * Once `recent` is in this many parts, a block spread over many bytes is copied together with
 * all of `recent` (a snapshot: up to RECENT_SAMPLES samples in one chunk), which replaces the
 * parts before it. A trace-mode seek then reads at most this many samples chunks and a partial
 * block, each a random read on a cold disk, for about 5 copies of each sample (a small part of
 * a trace-mode file). Blocks spread over many chunks only are close together: no snapshots.
 */
const MAX_RECENT_PARTS = 4;

export class RecentParts {
  /** Where the last RECENT_SAMPLES samples are, oldest first. */
  private readonly parts: { part: RecentPart; count: number }[] = [];
  private inParts = 0;
  /** The block being filled. */
  private block: RecentBlock | undefined;
  /** The last RECENT_SAMPLES metrics frames written (up to twice that: trimmed in bulk), for snapshots. */
  private lastSamples: RecordedFrame[] = [];

  constructor(private readonly file: ChunkFile) {}

  /** A frames chunk from `from` to `to` was written, holding these metrics frames. */
  async written(from: number, to: number, metrics: readonly RecordedFrame[]): Promise<void> {
    if (metrics.length === 0) return;
    this.block ??= { from, to: from, chunks: 0, frames: [] };
    this.block.to = to;
    this.block.chunks++;
    this.block.frames.push(...metrics);
    this.lastSamples.push(...metrics);
    if (this.lastSamples.length >= 2 * RECENT_SAMPLES) this.lastSamples = this.lastSamples.slice(-RECENT_SAMPLES);
    if (this.block.frames.length >= SAMPLES_PER_BLOCK) await this.closeBlock();
  }

  /** The newest parts that hold `count` samples, for a keyframe written now. */
  async partsFor(count: number): Promise<RecentPart[]> {
    // The block being filled: copied out so far if spread over many bytes (it goes on
    // filling, and is copied again, whole, when it is full), else a range of chunks (in
    // metrics mode, up to 60 small ones: copying it at every keyframe would cost more).
    const b = this.block;
    const tail = !b ? [] : b.to - b.from > SAMPLES_SPREAD_BYTES
      ? [{ part: { samplesAt: await this.writeSamples(b.frames) }, count: b.frames.length }]
      : [{ part: { framesFrom: b.from, framesTo: b.to }, count: b.frames.length }];
    const all = [...this.parts, ...tail];
    let first = all.length;
    for (let needed = count; first > 0 && needed > 0;) needed -= all[--first]!.count;
    return all.slice(first).map((p) => p.part);
  }

  /** Ends the block of samples being filled (after its frames chunks). */
  private async closeBlock(): Promise<void> {
    const b = this.block!;
    this.block = undefined;
    const sparse = b.to - b.from > SAMPLES_SPREAD_BYTES;
    if (!sparse && b.chunks <= SAMPLES_SPREAD_CHUNKS) this.add({ framesFrom: b.from, framesTo: b.to }, b.frames.length);
    else if (!sparse || this.parts.length < MAX_RECENT_PARTS) this.add({ samplesAt: await this.writeSamples(b.frames) }, b.frames.length);
    else {
      const snapshot = this.lastSamples.slice(-RECENT_SAMPLES);
      const samplesAt = await this.writeSamples(snapshot);
      this.parts.length = 0;
      this.inParts = 0;
      this.add({ samplesAt }, snapshot.length);
    }
  }

  private add(part: RecentPart, count: number): void {
    this.parts.push({ part, count });
    this.inParts += count;
    while (this.inParts - this.parts[0]!.count >= RECENT_SAMPLES) this.inParts -= this.parts.shift()!.count;
  }

  /** Writes copies of metrics frames as a samples chunk; its offset. */
  private async writeSamples(frames: readonly RecordedFrame[]): Promise<number> {
    const first = frames[0]!;
    const last = frames[frames.length - 1]!;
    const builder = new SectionBuilder();
    for (const f of frames) builder.append(f.seq - first.seq, Math.round((f.timeMs - first.timeMs) * 1000), PROTOCOL_VERSION, MessageType.Metrics, f.payload, f.loop);
    const mask = [builder.frameCount, builder.typeMaskLo, builder.typeMaskHi] as const;
    const raw = builder.take();
    const offset = this.file.offset;
    await this.file.writeChunk(ChunkKind.samples, { firstSeq: first.seq, startMs: first.timeMs, endMs: last.timeMs, frameCount: frames.length }, [[Lane.core, await deflate(raw, 6), raw, ...mask]]);
    return offset;
  }
}
