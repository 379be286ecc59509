// Crafted recordings that try to make loopscope decode, hold or write far more than they are:
// frames sections that decompress about 1000 times their size (deflate's most), or padded
// down to a chosen ratio. A frame's payload is built from parts, and a large part is deflated
// once and shared (deflate streams can be joined at sync-flush points), so that gigabytes of
// content cost the test milliseconds. Valid checksums throughout: only the sizes attack.

import { writeFileSync } from 'node:fs';
import { constants, deflateRawSync } from 'node:zlib';
import { crc32 } from '../../main/recording/crc32';
import { ChunkKind, Codec, encodeChunkHeader, encodeFileHeader, Lane, typeMaskBit } from '../../main/recording/format';
import { MessageType, PROTOCOL_VERSION } from '../../probe/wire';

/** Many bytes, deflated once. */
export interface Big {
  readonly rawBytes: number;
  readonly deflated: Uint8Array;
}

export type Part = Uint8Array | Big;

const sync = (bytes: Uint8Array): Uint8Array => deflateRawSync(bytes, { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
/** A final empty block: ends the joined stream. */
const END = deflateRawSync(new Uint8Array(0));

export function big(rawBytes: number, byte = 0x61): Big {
  return { rawBytes, deflated: sync(new Uint8Array(rawBytes).fill(byte)) };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const isBig = (p: Part): p is Big => !(p instanceof Uint8Array);
const partBytes = (p: Part): number => (isBig(p) ? p.rawBytes : p.byteLength);

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(i * 4, x, true));
  return out;
}

/** A dictionary frame's payload: one entry, `id`, whose string is `body`. */
export function dictionaryEntry(id: number, body: Big): Part[] {
  return [u32s(1, id, body.rawBytes), body];
}

/** A blocked report's JSON, with `frames` stack frames whose URL is `url`. */
export function blockedReport(id: number, frames: number, url: Big): Part[] {
  const parts: Part[] = [text(`{"id":${id},"state":"ended","startUs":${id * 1000},"durationUs":500,"stack":[`)];
  for (let i = 0; i < frames; i++) parts.push(text(`${i === 0 ? '' : ','}{"functionName":"f","url":"`), url, text(`","lineNumber":1,"columnNumber":1}`));
  parts.push(text(']}'));
  return parts;
}

export interface BombOptions {
  readonly type: number;
  /** The frames of one section, by frame number; every section holds the same number. */
  readonly frame: (seq: number) => Part[];
  readonly framesPerSection: number;
  readonly sections: number;
  /** Stored bytes are padded (after the end of the deflate stream) to at least rawBytes / ratio. */
  readonly ratio?: number;
}

/** Writes the crafted recording and returns its size in bytes. */
export function writeBomb(path: string, o: BombOptions): number {
  const out: Uint8Array[] = [encodeFileHeader({ wireProtocol: PROTOCOL_VERSION, startedAtMs: Date.now() })];
  let seq = 0;
  for (let s = 0; s < o.sections; s++) {
    const pieces: Uint8Array[] = [];
    let literal: Uint8Array[] = [];
    let rawBytes = 0;
    const flush = (): void => {
      if (literal.length > 0) pieces.push(sync(Buffer.concat(literal)));
      literal = [];
    };
    const firstSeq = seq;
    for (let f = 0; f < o.framesPerSection; f++, seq++) {
      const parts = o.frame(seq);
      const payload = parts.reduce((n, p) => n + partBytes(p), 0);
      const header = new Uint8Array(16);
      const v = new DataView(header.buffer);
      v.setUint32(0, f, true);
      v.setUint32(8, 4 + payload, true);
      v.setUint8(12, PROTOCOL_VERSION);
      v.setUint8(13, o.type);
      literal.push(header);
      rawBytes += 16 + payload;
      for (const p of parts) {
        if (isBig(p)) {
          flush();
          pieces.push(p.deflated);
        } else literal.push(p);
      }
    }
    flush();
    pieces.push(END);
    let stored: Uint8Array = Buffer.concat(pieces);
    if (o.ratio !== undefined && stored.byteLength < rawBytes / o.ratio) stored = Buffer.concat([stored, new Uint8Array(Math.ceil(rawBytes / o.ratio) - stored.byteLength)]);
    const mask = typeMaskBit(o.type);
    out.push(encodeChunkHeader({
      kind: ChunkKind.frames, frameCount: o.framesPerSection, firstSeq, startMs: s, endMs: s,
      sections: [{ lane: Lane.core, codec: Codec.deflateRaw, frameCount: o.framesPerSection, storedBytes: stored.byteLength, rawBytes, typeMaskLo: mask.lo, typeMaskHi: mask.hi, crc: crc32(stored) }],
    }), stored);
  }
  const file = Buffer.concat(out);
  writeFileSync(path, file);
  return file.byteLength;
}

/** 16 MB strings, four frames to a 64 MB section: `sections` × 64 MB of dictionary in all. */
export function dictionaryBomb(path: string, sections: number, ratio?: number): number {
  const body = big(16_000_000);
  return writeBomb(path, { type: MessageType.Dictionary, frame: (seq) => dictionaryEntry(seq + 1, body), framesPerSection: 4, sections, ...(ratio === undefined ? {} : { ratio }) });
}
