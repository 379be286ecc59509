// A recording file being written: its header at creation, then chunks appended in order by a
// queue, each compressed on libuv's thread pool while earlier ones are written. The first
// failure (a full disk) stops it, and is said once.

import { closeSync, fstatSync, fsyncSync, lstatSync, write as fsWrite, writeSync, type Stats } from 'node:fs';
import { deflateRaw } from 'node:zlib';
import { PROTOCOL_VERSION } from '../../probe/wire';
import { crc32 } from './crc32';
import { fsReason, notRegularFile, RecordingError, RECORDING_EXIT } from './errors';
import { Codec, encodeChunkHeader, encodeFileHeader, FILE_HEADER_BYTES, type ChunkKindId, type LaneId, type SectionHeader } from './format';
import { openPrivateOutput } from './private-output';

export function deflate(bytes: Uint8Array, level: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => deflateRaw(bytes, { level }, (err, out) => (err ? reject(err) : resolve(out))));
}

function writeAt(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (at: number): void => {
      fsWrite(fd, bytes, at, bytes.length - at, position + at, (err, written) => {
        if (err) return reject(err);
        if (at + written < bytes.length) step(at + written);
        else resolve();
      });
    };
    step(0);
  });
}

export interface ChunkSpan {
  readonly firstSeq: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly frameCount: number;
}

/** One section of a chunk: its lane, its bytes compressed and raw, and its frames' count and type masks. */
export type SectionBytes = readonly [LaneId, Uint8Array, Uint8Array, number, number, number];

/**
 * A recording is written at positions and read back by seeking: a FIFO or a device cannot hold
 * one, and a device (as root) would be written over. Refused before anything is written.
 */
function refuseNonRegular(look: () => Stats | undefined): void {
  const stat = look();
  const kind = stat && notRegularFile(stat);
  if (kind) throw new Error(`${kind}; a recording is written at positions and read back by seeking: give the path of a file`);
}

export class ChunkFile {
  private fd: number | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** Where the next chunk goes: owned by the queue. */
  private end = FILE_HEADER_BYTES;
  private failure: string | undefined;
  private readonly errorListeners: ((reason: string) => void)[] = [];

  /** Creates (or empties) the file and writes its header; throws a RecordingError when it cannot. */
  constructor(readonly path: string, startedAtMs: number) {
    try {
      // A symbolic link is left to the open, which refuses it (O_NOFOLLOW) in words of its own.
      refuseNonRegular(() => {
        const stat = lstatSync(path, { throwIfNoEntry: false });
        return stat?.isSymbolicLink() ? undefined : stat;
      });
      this.fd = openPrivateOutput(path);
      // The path may have changed between the look and the open: nothing is written to a device.
      const fd = this.fd;
      refuseNonRegular(() => fstatSync(fd));
      writeSync(this.fd, encodeFileHeader({ wireProtocol: PROTOCOL_VERSION, startedAtMs }));
    } catch (err) {
      if (this.fd !== undefined) closeSync(this.fd);
      throw new RecordingError(`cannot record to ${path}: ${fsReason(err)}`, RECORDING_EXIT.cannotWrite);
    }
  }

  /** The file's size so far (in the queue: where the next chunk goes). */
  get offset(): number {
    return this.end;
  }

  /** Why writing stopped early, if it did. */
  get error(): string | undefined {
    return this.failure;
  }

  onError(listener: (reason: string) => void): void {
    this.errorListeners.push(listener);
  }

  /** Runs `job` after every job queued before it; nothing runs once writing has failed. */
  enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined || this.fd === undefined) return;
      try {
        await job();
      } catch (err) {
        this.fail(`recording to ${this.path} stopped: ${fsReason(err)}`);
      }
    });
  }

  /** Appends a chunk (from inside a queued job). Incompressible sections are stored as they are. */
  async writeChunk(kind: ChunkKindId, span: ChunkSpan, sections: readonly SectionBytes[]): Promise<void> {
    const headers: SectionHeader[] = sections.map(([lane, stored, raw, frameCount, typeMaskLo, typeMaskHi]) => {
      const keep = stored.length < raw.length;
      const body = keep ? stored : raw;
      return { lane, codec: keep ? Codec.deflateRaw : Codec.stored, frameCount, storedBytes: body.length, rawBytes: raw.length, typeMaskLo, typeMaskHi, crc: crc32(body) };
    });
    const header = encodeChunkHeader({ kind, ...span, sections: headers });
    const bodies = sections.map(([, stored, raw]) => (stored.length < raw.length ? stored : raw));
    const out = new Uint8Array(header.length + bodies.reduce((n, b) => n + b.length, 0));
    out.set(header, 0);
    let at = header.length;
    for (const b of bodies) {
      out.set(b, at);
      at += b.length;
    }
    await this.writeBytes(out);
  }

  /** Appends bytes as they are (from inside a queued job): the footer. */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    await writeAt(this.fd!, bytes, this.end);
    this.end += bytes.length;
  }

  /** Waits for the queue, syncs (best effort) and closes. */
  async close(): Promise<void> {
    await this.queue;
    if (this.fd === undefined) return;
    try {
      if (this.failure === undefined) fsyncSync(this.fd);
    } catch {
      // fsync is best effort: some file systems do not support it.
    }
    closeSync(this.fd);
    this.fd = undefined;
  }

  private fail(reason: string): void {
    this.failure = reason;
    for (const l of this.errorListeners) l(reason);
  }
}
