// The header's record button: starts and stops recording the live session, shows the time
// and size so far, and once stopped, where the file went with a button to replay it.

import { useEffect, useState } from 'react';
import type { HostApi, SessionView } from '../../main/ui/ui-api';
import { formatReplayTime } from '../replay/scrubber';

interface Props {
  readonly api: HostApi;
  readonly view: SessionView;
  readonly onOpen: (sessionId: string) => void;
  readonly onError: (message: string) => void;
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 2 : 1)} MB`;

export function RecordButton({ api, view, onOpen, onError }: Props) {
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const recording = view.recording;
  useEffect(() => {
    if (!recording) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [recording]);

  const fail = (err: Error): void => onError(err.message);
  if (recording) {
    return (
      <div className="record" data-testid="recording">
        <button className="recording" onClick={() => api.stopRecording(view.id).then(() => setSaved(recording.file), fail)}>■ Stop recording</button>
        <span>{formatReplayTime(Math.max(0, (now - recording.startedAtMs) / 1000))} · {mb(recording.bytes)}</span>
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
