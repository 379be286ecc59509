// The summary of a recording: the same JSON summary a live `--json` run prints (summarize()
// over the same session state), plus what only a whole recording can tell: the worst stretch
// and the whole CPU profile (of the first loop, which the top-level fields describe; `loops`
// has every loop recorded).

import { summarize, type Summary } from './summary';
import { RecordingPlayer } from '../replay/recording-player';
import { WHOLE_RECORDING_SAMPLES } from '../session/profile-model';
import type { RecordingReader } from '../recording/recording-reader';
import { WorstStretchFinder, type WorstStretch } from './worst-stretch';


export interface RecordingSummary {
  /** Exactly what `run --json` prints for the session. */
  readonly summary: Summary;
  readonly worst: WorstStretch | undefined;
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
  // One pass over every frame, through the same feed as replay, for what only the whole
  // recording tells (trace mode's whole causality model, and every CPU sample).
  const pass = new RecordingPlayer(reader, { recentSamples: 0, refuseOverLimit: true, profileSamples: WHOLE_RECORDING_SAMPLES });
  pass.feed.onMessage((m) => {
    if (m.type === 'metrics') worst.add(m.sample);
  });
  pass.advanceTo(Infinity);
  // The state at the end from the last keyframe and the frames after it: frames lost to
  // damage before that keyframe still count in it.
  const end = new RecordingPlayer(reader, { trace: false, recentSamples: 0, profileSamples: 0 });
  end.seek(Infinity);
  const info = reader.info;
  const state = end.state;
  const exitCode = info.ending?.exitCode ?? state.goodbye?.exitCode ?? null;
  const warnings = [...(info.ending?.warnings ?? []), ...pass.warnings];
  if (pass.profile.dropped > 0) warnings.push(`the profile holds the last ${WHOLE_RECORDING_SAMPLES} CPU samples of the recording; ${pass.profile.dropped} earlier ones are left out`);
  if (info.frames === 0) warnings.push(`${reader.path} holds no frames: no probe connected while it was recording`);
  const endMs = info.closedAtMs ?? info.endMs;
  return {
    summary: summarize({ state, recent: end.recent, trace: pass.trace, profile: pass.profile }, {
      durationMs: Math.max(0, endMs - info.firstMs),
      exitCode,
      warnings,
      // Every loop recorded; the first one's exit code is the command's, as live.
      loops: end.loops.map((data) => (data === end.feed ? { data, exitCode } : { data })),
    }),
    worst: worst.result(),
    cwd: state.hello?.cwd ?? '',
    file: { path: reader.path, bytes: reader.size, frames: info.frames, complete: reader.complete, startedAt: new Date(reader.header.startedAtMs).toISOString() },
  };
}
