// The last lines a launched program wrote, in bounded memory: bytes in, whole lines kept,
// the oldest let go (and counted) past a number of lines or characters. Pure.

import { formatBytes } from '../common/format';

/** Lines kept, and characters in them at most. */
export const KEPT_LINES = 2000;
export const KEPT_CHARS = 512 * 1024;
/** A longer line is cut here (a minified bundle's error, a progress bar without newlines). */
export const MAX_LINE_CHARS = 4000;

export interface OutputLines {
  /** The kept lines, oldest first; the first is line number `first`. */
  readonly lines: readonly string[];
  readonly first: number;
  /** Lines written so far (kept or not); a line still being written is not counted. */
  readonly total: number;
  /** Bytes written so far. */
  readonly bytes: number;
}

export class OutputBuffer {
  private kept: string[] = [];
  private head = 0;
  private chars = 0;
  private first = 0;
  private partial = '';
  private bytes = 0;
  private readonly decoder = new TextDecoder('utf-8');

  /** Takes the next bytes the program wrote. */
  write(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.add(line);
    // A line that never ends is cut and kept, so that memory stays bounded.
    while (this.partial.length > MAX_LINE_CHARS) {
      this.add(this.partial.slice(0, MAX_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LINE_CHARS);
    }
  }

  /** `bytes` of output were not read (written faster than they could be): says so in a line of its own. */
  skip(bytes: number): void {
    this.end();
    this.bytes += bytes;
    this.add(`[loopscope skipped ${formatBytes(bytes)} of output here: the program wrote faster than they could be read]`);
  }

  /** The program is gone: its last line counts even without a newline. */
  end(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    if (rest !== '') this.add(rest);
  }

  /** The kept lines numbered `from` on (from the first kept one, if those are gone), at most `max`. */
  since(from: number, max: number): OutputLines {
    const start = Math.max(from, this.first);
    const total = this.first + this.kept.length - this.head;
    const lines = this.kept.slice(this.head + start - this.first, this.head + start - this.first + max);
    return { lines, first: start, total, bytes: this.bytes };
  }

  /** The last `n` lines, for a message. */
  tail(n: number): string[] {
    return this.kept.slice(Math.max(this.head, this.kept.length - n));
  }

  get total(): number {
    return this.first + this.kept.length - this.head;
  }

  /** Lines let go to stay within the bounds. */
  get dropped(): number {
    return this.first;
  }

  get byteCount(): number {
    return this.bytes;
  }

  private add(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const cut = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… (${line.length - MAX_LINE_CHARS} more characters)` : line;
    this.kept.push(cut);
    this.chars += cut.length;
    while (this.kept.length - this.head > KEPT_LINES || (this.chars > KEPT_CHARS && this.kept.length - this.head > 1)) {
      this.chars -= this.kept[this.head]!.length;
      this.head++;
      this.first++;
    }
    // Drop the let-go slots now and then, not on every line.
    if (this.head > KEPT_LINES) {
      this.kept = this.kept.slice(this.head);
      this.head = 0;
    }
  }
}
