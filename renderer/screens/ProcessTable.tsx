// The Start screen's list of the user's Node processes: each with its Node version, command,
// working directory and how long it has run, and an attach button or why it cannot be.

import { useEffect, useState } from 'react';
import type { ProcessEntry } from '../../main/ui/ui-api';

interface Props {
  readonly processes: readonly ProcessEntry[] | undefined;
  readonly error: string | undefined;
  readonly busy: boolean;
  readonly onAttach: (pid: number) => void;
}

/** "42 s", "12 min", "3 h 05", "2 d 4 h". */
export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

export function ProcessTable({ processes, error, busy, onAttach }: Props) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (error) return <p className="state error">Cannot list processes: {error}. The list retries every few seconds.</p>;
  if (!processes) return <p className="state">Looking for Node.js processes…</p>;
  if (processes.length === 0) return <p className="state">No Node.js processes of yours are running. Start one, or launch one above.</p>;
  return (
    <table className="processes">
      <thead><tr><th>PID</th><th>Node</th><th>Command</th><th>Working directory</th><th>Up</th><th /></tr></thead>
      <tbody>
        {processes.map((p) => (
          <tr key={p.pid} data-pid={p.pid}>
            <td>{p.pid}</td>
            <td>{p.nodeVersion ?? '?'}</td>
            <td className="command" title={p.command.join(' ')}>{p.command.join(' ')}</td>
            <td className="command" data-testid="process-cwd" title={p.cwd ?? ''}>{p.cwd ?? <span className="muted">?</span>}</td>
            <td data-testid="process-uptime" title={p.startedAtMs === null ? '' : `since ${new Date(p.startedAtMs).toLocaleString()}`}>
              {p.startedAtMs === null ? <span className="muted">?</span> : formatUptime(now - p.startedAtMs)}
            </td>
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
