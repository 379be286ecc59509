// Recording on demand, for a service that runs for days: a switch (a signal, an HTTP call)
// starts a recording of every loop into a directory and stops it. Recordings are cut into
// pieces, and the oldest pieces in the directory are deleted, so that it stays under its cap.

import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SessionRecorder, recordingFileName } from '../recording/session-recorder';
import { makeRecordingDir } from '../recording/recording-dir';
import { fsReason } from '../recording/errors';
import type { FleetLoop, LoopSet } from './loop-set';

/** Pieces per cap: a recording is cut when it reaches this fraction of the cap, per loop. */
const PIECES_PER_CAP = 4;
const CHECK_EVERY_MS = 1000;
const OUR_FILES = /^loopscope-.*\.lsrec$/;

export interface RecordingStatus {
  readonly recording: boolean;
  readonly dir: string;
  readonly capBytes: number;
  readonly files: readonly string[];
  /** Why the last start failed (the folder could not be made), if it did. */
  readonly error?: string;
}

export class RecordingRotation {
  private readonly active = new Map<FleetLoop, SessionRecorder>();
  private on = false;
  private timer: NodeJS.Timeout | undefined;
  private pieces = 0;
  private readonly unsubscribe: (() => void)[] = [];
  private error: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly capBytes: number,
    private readonly loops: LoopSet,
    private readonly log: (line: string) => void,
  ) {
    this.unsubscribe.push(
      loops.onAdded((loop) => {
        if (this.on) this.begin(loop);
      }),
      loops.onRemoved((loop) => void this.end(loop)),
    );
  }

  get status(): RecordingStatus {
    return { recording: this.on, dir: this.dir, capBytes: this.capBytes, files: [...this.active.values()].map((r) => r.path), ...(this.error === undefined ? {} : { error: this.error }) };
  }

  async toggle(): Promise<RecordingStatus> {
    return this.on ? this.stop() : this.start();
  }

  async start(): Promise<RecordingStatus> {
    if (this.on) return this.status;
    // Made at loopscope's start; gone or unwritable since, the service runs on unrecorded.
    try {
      makeRecordingDir(this.dir);
      this.error = undefined;
    } catch (err) {
      this.error = `cannot record into ${this.dir}: ${fsReason(err)}`;
      this.log(this.error);
      return this.status;
    }
    this.on = true;
    for (const loop of this.loops.list) this.begin(loop);
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.timer.unref();
    this.log(`recording into ${this.dir} (at most ${Math.round(this.capBytes / 1e6)} MB kept)`);
    return this.status;
  }

  async stop(): Promise<RecordingStatus> {
    if (!this.on) return this.status;
    this.on = false;
    clearInterval(this.timer);
    const files = [...this.active.values()].map((r) => r.path);
    await Promise.all([...this.active.keys()].map((loop) => this.end(loop)));
    this.prune();
    this.log(`recording stopped: ${files.join(', ') || 'no loop was connected'}`);
    return { ...this.status, files };
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.stop();
  }

  private begin(loop: FleetLoop): void {
    const { pid, threadId } = loop.identity;
    const name = recordingFileName(pid, Date.now()).replace(/\.lsrec$/, `-t${threadId}-${++this.pieces}.lsrec`);
    try {
      const recorder = SessionRecorder.start(join(this.dir, name), loop.source);
      recorder.onError((reason) => {
        this.log(`recording of process ${pid} stopped: ${reason}`);
        void this.end(loop);
      });
      this.active.set(loop, recorder);
    } catch (err) {
      this.log(`cannot record process ${pid}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async end(loop: FleetLoop): Promise<void> {
    const recorder = this.active.get(loop);
    if (!recorder) return;
    this.active.delete(loop);
    await recorder.stop();
  }

  /** Cuts pieces that reached their share of the cap, then deletes the oldest to stay under it. */
  private check(): void {
    const pieceBytes = this.capBytes / PIECES_PER_CAP / Math.max(1, this.active.size);
    for (const [loop, recorder] of [...this.active]) {
      if (recorder.progress.bytes < pieceBytes) continue;
      void this.end(loop).then(() => {
        if (this.on && this.loops.list.includes(loop)) this.begin(loop);
        this.prune();
      });
    }
    this.prune();
  }

  private prune(): void {
    const live = new Set([...this.active.values()].map((r) => r.path));
    let files: { path: string; bytes: number; mtimeMs: number }[];
    try {
      files = readdirSync(this.dir).filter((f) => OUR_FILES.test(f)).map((f) => {
        const path = join(this.dir, f);
        const st = statSync(path);
        return { path, bytes: st.size, mtimeMs: st.mtimeMs };
      });
    } catch {
      return;
    }
    let total = files.reduce((a, f) => a + f.bytes, 0);
    for (const f of files.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      if (total <= this.capBytes) break;
      if (live.has(f.path)) continue;
      try {
        unlinkSync(f.path);
        total -= f.bytes;
      } catch {
        // Gone already, or not ours to delete: the next check tries again.
      }
    }
  }
}
