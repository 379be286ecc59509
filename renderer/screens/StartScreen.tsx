// The Start screen: the probe's settings for what is started or attached next (mode, block
// threshold, promises); a command to launch (with VAR=value prefixes and a working directory);
// a PID to attach; the user's Node processes (refreshed), each with where it runs and for how
// long; the built-in demo; recordings to replay; and the sessions already open.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { CONFIG_LIMITS } from '../../probe/wire';
import type { HostApi, ProbeConfig, ProbeMode, ProcessEntry, SessionSummary } from '../../main/ui/ui-api';
import { parseLaunchLine } from '../launch-line';
import { OpenRecording } from './OpenRecording';
import { ProcessTable } from './ProcessTable';

const REFRESH_MS = 2000;
const MODES: readonly ProbeMode[] = ['metrics', 'tasks', 'trace'];

interface Props {
  readonly api: HostApi;
  readonly sessions: readonly SessionSummary[];
  readonly onOpen: (sessionId: string) => void;
}

export function StartScreen({ api, sessions, onOpen }: Props) {
  const [processes, setProcesses] = useState<readonly ProcessEntry[] | undefined>(undefined);
  const [listError, setListError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const [command, setCommand] = useState('');
  const [cwd, setCwd] = useState('');
  const [pid, setPid] = useState('');
  const [mode, setMode] = useState<ProbeMode>('metrics');
  const [threshold, setThreshold] = useState('50');
  const [promises, setPromises] = useState(false);

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

  /** The settings for the probe, or undefined (and the reason shown) when the threshold is not a number in range. */
  const config = (): Partial<ProbeConfig> | undefined => {
    const ms = Number(threshold);
    const { min, max } = CONFIG_LIMITS.blockThresholdMs;
    if (threshold.trim() === '' || !Number.isFinite(ms) || ms < min || ms > max) {
      setActionError(`The block threshold must be a number of milliseconds from ${min} to ${max}`);
      return undefined;
    }
    return { mode, blockThresholdMs: ms, promises };
  };

  const launch = (e: FormEvent): void => {
    e.preventDefault();
    const { env, argv } = parseLaunchLine(command);
    if (argv.length === 0) return setActionError('Type a command first, e.g. PORT=3000 node server.js');
    const c = config();
    if (!c) return;
    run(`starting ${argv[0]}…`, () => api.launch(argv, c, { env, ...(cwd.trim() ? { cwd: cwd.trim() } : {}) }));
  };

  const attachPid = (e: FormEvent): void => {
    e.preventDefault();
    const n = Number(pid);
    if (!Number.isSafeInteger(n) || n <= 0) return setActionError('Type the PID of a Node.js process, e.g. 12345');
    const c = config();
    if (c) run(`attaching to ${n}…`, () => api.attach(n, c));
  };

  const closeSession = (id: string): void => {
    setActionError(undefined);
    api.close(id).catch((err: Error) => setActionError(err.message));
  };

  return (
    <main className="start">
      <h1>loopscope</h1>
      <p className="lead">See inside a live Node.js event loop. Attach to a running process, or start one.</p>
      {busy && <p className="state" role="status">{busy}</p>}
      {actionError && <pre className="state error" role="alert">{actionError}</pre>}

      {sessions.length > 0 && (
        <section>
          <h2>Open sessions</h2>
          <ul className="sessions">
            {/* One line per session, not per loop: its other loops are a click away in its Loops tab, and close with it. */}
            {sessions.filter((s) => s.group === s.id).map((s) => (
              <li key={s.id} data-session={s.id}>
                <button onClick={() => onOpen(s.id)}>Show</button>{' '}
                <button onClick={() => closeSession(s.id)} title={s.status === 'live' ? (s.how === 'attach' ? 'Detach and close' : 'Stop the program and close') : 'Close'}>Close</button>{' '}
                pid {s.pid} · {s.command.join(' ')} · {s.file !== null ? `replay of ${s.file}` : s.status}
                {s.loops > 1 ? ` · ${s.loops} loops` : ''}
              </li>
            ))}
          </ul>
        </section>
      )}

      <section>
        <h2>Probe settings</h2>
        <div className="probe-settings" role="group" aria-label="probe settings">
          <label>mode <select aria-label="mode" value={mode} onChange={(e) => setMode(e.target.value as ProbeMode)}>{MODES.map((m) => <option key={m} value={m}>{m}</option>)}</select></label>
          <label>block threshold <input className="short" aria-label="block threshold (ms)" inputMode="numeric" value={threshold} onChange={(e) => setThreshold(e.target.value)} /> ms</label>
          <label><input type="checkbox" aria-label="track promises" checked={promises} onChange={(e) => setPromises(e.target.checked)} /> track promises (tasks and trace modes; costly)</label>
        </div>
      </section>

      <section>
        <h2>Launch</h2>
        <form className="launch-form" onSubmit={launch}>
          <input aria-label="command to launch" placeholder="PORT=3000 node server.js" value={command} onChange={(e) => setCommand(e.target.value)} />
          <input aria-label="working directory" placeholder="working directory (default: loopscope's)" value={cwd} onChange={(e) => setCwd(e.target.value)} />
          <button type="submit" disabled={busy !== undefined}>Launch</button>
          <button type="button" disabled={busy !== undefined} onClick={() => { const c = config(); if (c) run('starting the demo…', () => api.launchDemo(c)); }}>Try the demo app</button>
        </form>
      </section>

      <section>
        <h2>Your Node.js processes</h2>
        <form className="launch" onSubmit={attachPid}>
          <input className="short" aria-label="PID to attach" placeholder="PID" inputMode="numeric" value={pid} onChange={(e) => setPid(e.target.value)} />
          <button type="submit" disabled={busy !== undefined}>Attach</button>
        </form>
        <ProcessTable processes={processes} error={listError} busy={busy !== undefined} onAttach={(p) => { const c = config(); if (c) run(`attaching to ${p}…`, () => api.attach(p, c)); }} />
      </section>

      <OpenRecording api={api} onOpen={onOpen} />
    </main>
  );
}
