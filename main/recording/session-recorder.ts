// Records a live session from the moment the user asks (the window's record button), not
// only from its start as `--record` does. Frames before that are not in the file, but the
// dictionary they built is: it is written right after the hello, so what follows decodes.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeDictionary, MessageType, type RawFrame } from '../../probe/wire';
import type { ProbeConnection, ProbeConnectionEvents } from '../server/probe-server';
import type { RecordingView } from '../ui/ui-api';
import { RecordingWriter } from './recording-writer';

/** A file name for a recording of `pid` started at `atMs`, sortable by time. */
export function recordingFileName(pid: number, atMs: number): string {
  const stamp = new Date(atMs).toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `loopscope-${pid}-${stamp}.lsrec`;
}

export class SessionRecorder {
  private readonly startedAtMs = Date.now();
  private readonly onMessage: ProbeConnectionEvents['message'];
  private stopped: Promise<void> | undefined;

  private constructor(private readonly writer: RecordingWriter, private readonly connection: ProbeConnection) {
    this.onMessage = (_message, raw, receivedAtMs) => writer.write(raw, receivedAtMs);
  }

  /** Creates the file and starts writing; throws a RecordingError when the file cannot be made. */
  static start(path: string, connection: ProbeConnection, dictionary: ReadonlyMap<number, string>): SessionRecorder {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    } catch {
      // RecordingWriter.create says what is wrong with the path.
    }
    const writer = RecordingWriter.create(path);
    const recorder = new SessionRecorder(writer, connection);
    const now = Date.now();
    writer.start(connection.hello, now);
    if (dictionary.size > 0) {
      const raw: RawFrame = { type: MessageType.Dictionary, payload: encodeDictionary([...dictionary]).subarray(8) };
      writer.write(raw, now);
    }
    connection.on('message', recorder.onMessage);
    connection.on('close', () => void recorder.stop());
    return recorder;
  }

  get path(): string {
    return this.writer.path;
  }

  get view(): RecordingView {
    return { file: this.writer.path, startedAtMs: this.startedAtMs, bytes: this.writer.stats.fileBytes, error: this.writer.error ?? null };
  }

  /** Stops taking frames and closes the file (index, footer); safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= (() => {
      this.connection.off('message', this.onMessage);
      return this.writer.close();
    })();
    return this.stopped;
  }
}
