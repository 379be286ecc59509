// The header's record button: starts and stops recording the live session, shows the time
// and size so far, and once stopped, where the file went with a button to replay it.

import { useEffect, useState } from 'react';
import { formatBytes } from '../../main/common/format';
import type { HostApi, SessionView } from '../../main/ui/ui-api';
import { formatReplayTime } from '../replay/scrubber';

interface Props {
  readonly api: HostApi;
  readonly view: SessionView;
  readonly onOpen: (sessionId: string) => void;
  readonly onError: (message: string) => void;
}

/** The recording's clock ticks this often (it shows tenths). */
const TICK_MS = 100;

export function RecordButton({ api, view, onOpen, onError }: Props) {
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const recording = view.recording;
  // Keyed on whether it records, not on the recording's view: that is new at every update
  // (its size grows), and restarting the timer each time kept it from ever firing.
  const recordingSince = recording?.startedAtMs;
  useEffect(() => {
    if (recordingSince === undefined) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(timer);
  }, [recordingSince]);

  const fail = (err: Error): void => onError(err.message);
  if (recording) {
    return (
      <div className="record" data-testid="recording">
        <button className="recording" onClick={() => api.stopRecording(view.id).then(() => setSaved(recording.file), fail)}>■ Stop recording</button>
        <span data-testid="recording-progress">{formatReplayTime(Math.max(0, (now - recording.startedAtMs) / 1000))} · {formatBytes(recording.bytes)}</span>
        {recording.error && <span className="error" role="alert"> recording stopped: {recording.error}</span>}
      </div>
    );
  }
  return (
    <div className="record">
      {view.status === 'live' && <button onClick={() => api.startRecording(view.id).then(() => setSaved(undefined), fail)}>● Record</button>}
      {saved && (
        <span className="muted" data-testid="saved-recording">
          saved to <code title={saved}>{saved}</code>{' '}
          <button onClick={() => api.openRecording(saved).then(onOpen, fail)}>Replay it</button>
        </span>
      )}
    </div>
  );
}
