// The wire's framing: a length, a version, a type, then the payload; and the reader that
// splits a byte stream into frames, checking every header. Pure.

import { HEADER_BYTES, MAX_FRAME_BYTES, MessageType, PROTOCOL_VERSION, WireError, type MessageTypeId, type RawFrame } from './wire';

const KNOWN_TYPES = new Set<number>(Object.values(MessageType));

export const encoder = new TextEncoder();

export function frame(type: MessageTypeId, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, 4 + payload.byteLength, true);
  view.setUint8(4, PROTOCOL_VERSION);
  view.setUint8(5, type);
  out.set(payload, HEADER_BYTES);
  return out;
}

export function jsonFrame(type: MessageTypeId, value: unknown): Uint8Array {
  return frame(type, encoder.encode(JSON.stringify(value)));
}

/**
 * Splits a byte stream into frames. Feed it chunks as they arrive; it validates every header
 * and throws a WireError on the first bad one (the stream cannot be resynchronised after that).
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): RawFrame[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
    }
    const frames: RawFrame[] = [];
    while (this.buffered >= HEADER_BYTES) {
      const header = this.peek(HEADER_BYTES);
      const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
      const length = view.getUint32(0, true);
      const version = view.getUint8(4);
      const type = view.getUint8(5);
      if (length < 4) throw new WireError(`bad frame length ${length}: shorter than the header`);
      if (length + 4 > this.maxFrameBytes) {
        throw new WireError(`bad frame length ${length}: larger than the ${this.maxFrameBytes}-byte limit`);
      }
      if (version !== PROTOCOL_VERSION) {
        throw new WireError(`unsupported protocol version ${version} (this loopscope speaks ${PROTOCOL_VERSION})`);
      }
      if (!KNOWN_TYPES.has(type)) throw new WireError(`unknown message type ${type}`);
      if (view.getUint16(6, true) !== 0) throw new WireError('bad frame header: reserved bits are set');
      const total = 4 + length;
      if (this.buffered < total) break;
      const bytes = this.take(total);
      frames.push({ type: type as MessageTypeId, payload: bytes.subarray(HEADER_BYTES) });
    }
    return frames;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.byteLength >= n) return first;
    this.chunks = [concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }

  private take(n: number): Uint8Array {
    const bytes = this.peek(n);
    const out = bytes.subarray(0, n);
    if (bytes.byteLength === n) this.chunks.shift();
    else this.chunks[0] = bytes.subarray(n);
    this.buffered -= n;
    return out;
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
