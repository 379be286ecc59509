// The Start screen's recordings: open one (the file dialog, dropping a file anywhere on the
// screen, or a path on the machine loopscope runs on), with progress while it is sent and
// opened, and the recent ones, each a click away.

import { useCallback, useEffect, useState, type DragEvent, type FormEvent } from 'react';
import type { HostApi, PickedFile, RecentRecording } from '../../main/ui/ui-api';

interface Props {
  readonly api: HostApi;
  readonly onOpen: (sessionId: string) => void;
}

type Progress = { readonly what: string; readonly fraction: number | undefined };

const size = (bytes: number | null): string => (bytes === null ? '' : bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`);

export function OpenRecording({ api, onOpen }: Props) {
  const [recent, setRecent] = useState<readonly RecentRecording[] | undefined>(undefined);
  const [progress, setProgress] = useState<Progress | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [path, setPath] = useState('');
  const [dropping, setDropping] = useState(false);

  useEffect(() => {
    let stopped = false;
    api.recentRecordings().then((list) => !stopped && setRecent(list), () => !stopped && setRecent([]));
    return () => {
      stopped = true;
    };
  }, [api]);

  const open = useCallback((what: string, action: (onProgress: (f: number) => void) => Promise<string>) => {
    setError(undefined);
    setProgress({ what, fraction: undefined });
    action((fraction) => setProgress({ what, fraction })).then(onOpen, (err: Error) => setError(err.message)).finally(() => setProgress(undefined));
  }, [onOpen]);

  const openFile = (file: PickedFile | undefined): void => {
    if (file) open(`opening ${file.name}…`, (onProgress) => api.openRecordingFile(file, onProgress));
  };
  const openPath = (e: FormEvent): void => {
    e.preventDefault();
    const p = path.trim();
    if (!p) return setError('Type the path of a recording first, e.g. /home/me/s.lsrec');
    open(`opening ${p}…`, () => api.openRecording(p));
  };
  const onDrop = (e: DragEvent): void => {
    e.preventDefault();
    setDropping(false);
    openFile(e.dataTransfer.files[0]);
  };

  return (
    <section
      className={dropping ? 'open-recording dropping' : 'open-recording'}
      data-testid="open-recording"
      onDragOver={(e) => {
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={onDrop}
    >
      <h2>Recordings</h2>
      <p className="muted">Replay a recording made with the record button or <code>loopscope run --record</code>: pick it, drop it here, or give its path.</p>
      <div className="launch">
        <label className="file-button">
          Open a recording…
          <input type="file" aria-label="recording file" accept=".lsrec,application/octet-stream" disabled={progress !== undefined} onChange={(e) => openFile(e.target.files?.[0])} />
        </label>
        <form className="launch" onSubmit={openPath}>
          <input aria-label="recording path" placeholder="/path/to/session.lsrec" value={path} onChange={(e) => setPath(e.target.value)} />
          <button type="submit" disabled={progress !== undefined}>Open</button>
        </form>
      </div>
      {progress && (
        <p className="state" role="status">
          {progress.what} <progress aria-label="opening the recording" value={progress.fraction} max={1} />
          {progress.fraction !== undefined && ` ${Math.floor(progress.fraction * 100)}%`}
        </p>
      )}
      {error && <p className="state error" role="alert">{error}</p>}
      <RecentList recent={recent} busy={progress !== undefined} onOpen={(file) => open(`opening ${file}…`, () => api.openRecording(file))} />
    </section>
  );
}

function RecentList({ recent, busy, onOpen }: { recent: readonly RecentRecording[] | undefined; busy: boolean; onOpen: (file: string) => void }) {
  if (!recent) return null;
  if (recent.length === 0) return <p className="muted">No recent recordings. Record a session with the ● Record button on its screen.</p>;
  return (
    <ul className="recent" data-testid="recent-recordings">
      {recent.map((r) => (
        <li key={r.file}>
          <button disabled={busy || r.problem !== null} onClick={() => onOpen(r.file)}>Replay</button>{' '}
          <code title={r.file}>{r.file.split(/[\\/]/).pop()}</code>{' '}
          <span className="muted">{r.problem ?? `${size(r.bytes)} · ${new Date(r.atMs).toLocaleString()}`}</span>
        </li>
      ))}
    </ul>
  );
}
