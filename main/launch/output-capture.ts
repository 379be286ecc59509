// A launched program's stdout and stderr, for the window's console. The program writes into a
// file in loopscope's private folder, and loopscope reads that file as it grows.
//
// Why a file and not a pipe: a pipe's reading end would be loopscope's, and when loopscope
// dies (a crash, kill -9) the program's next write fails with EPIPE, which a Node program
// does not handle: it crashes. A file has no reader to lose, and no buffer to fill while
// loopscope is slow, so the program never waits on loopscope nor breaks with it.
//
// The file is opened for appending, so loopscope can empty it once it has read it all (past
// TRUNCATE_AT), and the program's next write lands at its new start: the disk it takes stays
// bounded while loopscope runs. A write landing between loopscope's last read and the
// truncation (microseconds) would be lost. If loopscope dies, the program goes on writing to
// the file unread; the next loopscope removes the folder, and the disk is freed when the
// program ends.

import { closeSync, constants, ftruncateSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OutputBuffer, type OutputLines } from './output-lines';

const POLL_MS = 150;
const CHUNK_BYTES = 64 * 1024;
/** Read this much at most per poll, so that a flood of output cannot hold loopscope's loop. */
const MAX_READ_PER_POLL = 1024 * 1024;
/** Further behind than this, the reading skips to the last SKIP_TO bytes: the file stays bounded. */
const MAX_BEHIND = 32 * 1024 * 1024;
const SKIP_TO = 256 * 1024;
/** Emptied once loopscope has read this much of it. */
export const TRUNCATE_AT = 8 * 1024 * 1024;

let counter = 0;

export class OutputCapture {
  /** For the child's stdout and stderr (spawn's stdio); close it in loopscope once spawned. */
  readonly writeFd: number;
  private readonly readFd: number;
  private readonly buffer = new OutputBuffer();
  private position = 0;
  private readonly timer: NodeJS.Timeout;
  private finished = false;
  /** A descriptor's number is reused once closed: closing it twice could close someone else's (a socket of libuv's). */
  private writerOpen = true;
  private readonly chunk = Buffer.alloc(CHUNK_BYTES);

  private constructor(private readonly path: string, private readonly onData: () => void) {
    const { O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_APPEND } = constants;
    // O_EXCL: a file planted at the name is refused, not written through (and the folder is 0700).
    this.writeFd = openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o600);
    try {
      this.readFd = openSync(path, O_RDWR);
    } catch (err) {
      closeSync(this.writeFd);
      throw err;
    }
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this.timer.unref();
  }

  /** A new capture file in `dir` (loopscope's private folder); `onData` runs when lines arrive. */
  static create(dir: string, onData: () => void = () => undefined): OutputCapture {
    return new OutputCapture(join(dir, `output-${process.pid}-${++counter}.log`), onData);
  }

  /** The loopscope side of the child's descriptor, once the child has its own. Once only. */
  closeWriter(): void {
    if (!this.writerOpen) return;
    this.writerOpen = false;
    closeSync(this.writeFd);
  }

  lines(from: number, max: number): OutputLines {
    return this.buffer.since(from, max);
  }

  tail(n: number): string[] {
    return this.buffer.tail(n);
  }

  get total(): number {
    return this.buffer.total;
  }

  get dropped(): number {
    return this.buffer.dropped;
  }

  get bytes(): number {
    return this.buffer.byteCount;
  }

  /** The program has exited: reads what is left, keeps the lines, removes the file. */
  finish(): void {
    if (this.finished) return;
    this.poll(Infinity);
    this.finished = true;
    clearInterval(this.timer);
    this.buffer.end();
    this.closeWriter();
    closeSync(this.readFd);
    rmSync(this.path, { force: true });
    this.onData();
  }

  private poll(limit = MAX_READ_PER_POLL): void {
    if (this.finished) return;
    let read = 0;
    try {
      const size = fstatSync(this.readFd).size;
      if (size - this.position > MAX_BEHIND) {
        this.buffer.skip(size - SKIP_TO - this.position);
        this.position = size - SKIP_TO;
        read++;
      }
      for (;;) {
        const n = readSync(this.readFd, this.chunk, 0, CHUNK_BYTES, this.position);
        if (n === 0) break;
        this.position += n;
        read += n;
        this.buffer.write(this.chunk.subarray(0, n));
        if (read >= limit) break;
      }
      if (this.position >= TRUNCATE_AT && fstatSync(this.readFd).size === this.position) {
        ftruncateSync(this.readFd, 0);
        this.position = 0;
      }
    } catch {
      // The file went away (the folder was removed at shutdown): nothing more to read.
    }
    if (read > 0) this.onData();
  }
}
