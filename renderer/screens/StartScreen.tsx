// The Start screen: the user's Node processes (refreshed), each with an attach button; a
// command to launch with the probe; the built-in demo; recordings to replay; and the sessions
// already open.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { HostApi, ProcessEntry, SessionView } from '../../main/ui/ui-api';
import { splitCommand } from '../split-command';
import { OpenRecording } from './OpenRecording';

const REFRESH_MS = 2000;

interface Props {
  readonly api: HostApi;
  readonly sessions: readonly SessionView[];
  readonly onOpen: (sessionId: string) => void;
}

export function StartScreen({ api, sessions, onOpen }: Props) {
  const [processes, setProcesses] = useState<readonly ProcessEntry[] | undefined>(undefined);
  const [listError, setListError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const [command, setCommand] = useState('');

  useEffect(() => {
    let stopped = false;
    const refresh = (): void => {
      api.listProcesses().then(
        (list) => {
          if (stopped) return;
          setProcesses(list);
          setListError(undefined);
        },
        (err: Error) => !stopped && setListError(err.message),
      );
    };
    refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api]);

  const run = useCallback((what: string, action: () => Promise<string>) => {
    setBusy(what);
    setActionError(undefined);
    action().then(onOpen, (err: Error) => setActionError(err.message)).finally(() => setBusy(undefined));
  }, [onOpen]);

  const launch = (e: FormEvent): void => {
    e.preventDefault();
    const argv = splitCommand(command);
    if (argv.length === 0) return setActionError('Type a command first, e.g. node server.js');
    run(`starting ${argv[0]}…`, () => api.launch(argv));
  };

  return (
    <main className="start">
      <h1>loopscope</h1>
      <p className="lead">See inside a live Node.js event loop. Attach to a running process, or start one.</p>
      {busy && <p className="state" role="status">{busy}</p>}
      {actionError && <p className="state error" role="alert">{actionError}</p>}

      {sessions.length > 0 && (
        <section>
          <h2>Open sessions</h2>
          <ul className="sessions">
            {sessions.map((s) => (
              <li key={s.id}>
                <button onClick={() => onOpen(s.id)}>Show</button> pid {s.pid} · {s.command.join(' ')} · {s.replay ? `replay of ${s.replay.file}` : s.status}
              </li>
            ))}
          </ul>
        </section>
      )}

      <section>
        <h2>Launch</h2>
        <form className="launch" onSubmit={launch}>
          <input aria-label="command to launch" placeholder="node server.js" value={command} onChange={(e) => setCommand(e.target.value)} />
          <button type="submit" disabled={busy !== undefined}>Launch</button>
          <button type="button" disabled={busy !== undefined} onClick={() => run('starting the demo…', () => api.launchDemo())}>Try the demo app</button>
        </form>
      </section>

      <section>
        <h2>Your Node.js processes</h2>
        <ProcessList processes={processes} error={listError} busy={busy !== undefined} onAttach={(pid) => run(`attaching to ${pid}…`, () => api.attach(pid))} />
      </section>

      <OpenRecording api={api} onOpen={onOpen} />
    </main>
  );
}

interface ListProps {
  readonly processes: readonly ProcessEntry[] | undefined;
  readonly error: string | undefined;
  readonly busy: boolean;
  readonly onAttach: (pid: number) => void;
}

function ProcessList({ processes, error, busy, onAttach }: ListProps) {
  if (error) return <p className="state error">Cannot list processes: {error}. The list retries every few seconds.</p>;
  if (!processes) return <p className="state">Looking for Node.js processes…</p>;
  if (processes.length === 0) return <p className="state">No Node.js processes of yours are running. Start one, or launch one above.</p>;
  return (
    <table className="processes">
      <thead><tr><th>PID</th><th>Node</th><th>Command</th><th /></tr></thead>
      <tbody>
        {processes.map((p) => (
          <tr key={p.pid} data-pid={p.pid}>
            <td>{p.pid}</td>
            <td>{p.nodeVersion ?? '?'}</td>
            <td className="command" title={p.command.join(' ')}>{p.command.join(' ')}</td>
            <td>
              {p.attachable
                ? (
                  <>
                    <button disabled={busy} onClick={() => onAttach(p.pid)}>Attach</button>
                    {p.via === 'probe'
                      ? <span className="via secure" title="Started with the dormant probe: attached without a signal and without opening its inspector">secure: dormant probe</span>
                      : <span className="via muted" title="Attaching opens its inspector for a moment (any local user can reach it meanwhile)">through its inspector</span>}
                  </>
                )
                : <span className="muted" title={p.reason ?? ''}>cannot attach: {p.reason}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
