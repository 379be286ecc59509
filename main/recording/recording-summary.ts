// The summary of a recording: the same JSON summary a live `--json` run prints (summarize()
// over the same session state), plus what only a whole recording can tell: the worst stretch
// and the blocked-loop stacks grouped. The state at the end comes from the last keyframe and
// the frames after it; one pass over the frames decodes them for the rest.

import { FILE_HEADER_BYTES } from './format';
import { messageTypeName, PROTOCOL_VERSION, ProbeDecoder, WireLimitError, type MessageTypeId } from '../../probe/wire';
import { overLimitError } from './errors';
import { summarize, type Summary } from '../session/summary';
import { TraceModel } from '../session/trace-model';
import { BlockedStacks, type StackGroup } from './blocked-stacks';
import { RecordingPlayer } from './recording-player';
import { FrameCursor, type RecordingReader } from './recording-reader';
import { WorstStretchFinder, type WorstStretch } from './worst-stretch';

const STACK_GROUPS_LISTED = 5;

export interface RecordingSummary {
  /** Exactly what `run --json` prints for the session. */
  readonly summary: Summary;
  readonly worst: WorstStretch | undefined;
  readonly stacks: readonly StackGroup[];
  /** The target's working folder, to show paths in stacks relative to it. */
  readonly cwd: string;
  readonly file: {
    readonly path: string;
    readonly bytes: number;
    readonly frames: number;
    /** False when the recorder did not close it (killed, or still recording). */
    readonly complete: boolean;
    readonly startedAt: string;
  };
}

export function summarizeRecording(reader: RecordingReader): RecordingSummary {
  const worst = new WorstStretchFinder();
  const stacks = new BlockedStacks();
  const trace = new TraceModel();
  const decoder = new ProbeDecoder();
  const undecodable = new Map<string, { count: number; example: string }>();
  const cursor = new FrameCursor(reader, FILE_HEADER_BYTES);
  for (let f = cursor.next(); f; f = cursor.next()) {
    try {
      if (f.version !== PROTOCOL_VERSION) throw new Error(`wire protocol ${f.version}`);
      const m = decoder.decode({ type: f.type as MessageTypeId, payload: f.payload });
      if (m.type === 'metrics') worst.add(m.sample);
      else if (m.type === 'blocked') stacks.add(m.report);
      else if (m.type === 'taskEvents') trace.apply(m.batch);
    } catch (err) {
      if (err instanceof WireLimitError) throw overLimitError(reader.path, err.message);
      const type = messageTypeName(f.type);
      const u = undecodable.get(type) ?? { count: 0, example: err instanceof Error ? err.message : String(err) };
      u.count++;
      undecodable.set(type, u);
    }
  }
  const info = reader.info;
  const player = new RecordingPlayer(reader);
  player.seek(info.endMs);
  const state = player.state;
  const warnings = [...(info.ending?.warnings ?? []), ...reader.warnings];
  for (const [type, u] of undecodable) warnings.push(`${u.count} ${type} frame${u.count === 1 ? '' : 's'} could not be decoded and were skipped (first: ${u.example})`);
  if (info.frames === 0) warnings.push(`${reader.path} holds no frames: no probe connected while it was recording`);
  const end = info.closedAtMs ?? info.endMs;
  return {
    summary: summarize(state, {
      durationMs: Math.max(0, end - info.firstMs),
      exitCode: info.ending?.exitCode ?? state.goodbye?.exitCode ?? null,
      warnings,
      trace,
    }),
    worst: worst.result(),
    stacks: stacks.result(STACK_GROUPS_LISTED).groups,
    cwd: state.hello?.cwd ?? '',
    file: { path: reader.path, bytes: reader.size, frames: info.frames, complete: reader.complete, startedAt: new Date(reader.header.startedAtMs).toISOString() },
  };
}
