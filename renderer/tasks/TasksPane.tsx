// The tasks pane: in tasks and trace modes, the findings (thread pool, late timers, growing
// types, fan-out, the slowest callbacks) and the task table; in every mode, the resources
// keeping the loop alive.

import { memo } from 'react';
import type { HostApi, SessionView } from '../../main/ui/ui-api';
import { FindingList } from './FindingList';
import { TaskTable } from './TaskTable';

interface Props {
  readonly api: HostApi;
  readonly view: SessionView;
  readonly cwd: string;
  readonly onMode: () => void;
}

export const TasksPane = memo(function TasksPane({ api, view, cwd, onMode }: Props) {
  const w = view.tasksWindow;
  return (
    <div className="tasks-pane">
      {view.tasks === null
        ? (
          <p className="muted">
            {view.config.mode === 'metrics'
              ? <>Async tasks are counted in tasks and trace modes: the thread pool, late timers, resource types that keep growing, fan-out and the slowest callbacks with where they were made. {view.status === 'live' && <button onClick={onMode}>Switch to tasks mode</button>}</>
              : 'Waiting for the first tasks interval…'}
          </p>
        )
        : (
          <>
            <h3>What the async tasks say <span className="muted" data-testid="tasks-window">over {w?.spanS.toFixed(1)} s of tasks data (tasks and trace modes)</span></h3>
            {view.promises && <p className={view.promises.costly ? 'promise-note costly' : 'promise-note muted'} data-testid="promise-note">{view.promises.note}</p>}
            <FindingList api={api} findings={view.findings} cwd={cwd} />
            <h3>By resource type</h3>
            <TaskTable rows={view.tasks} window={w} />
          </>
        )}
      <section className="resources" data-testid="resources">
        <h3>Active resources <span className="muted">now</span></h3>
        {view.resources.length === 0
          ? <p className="muted">None: nothing keeps this loop alive but the probe.</p>
          : <ul>{view.resources.map((r) => <li key={r.type}><span>{r.type}</span> <strong>{r.count}</strong></li>)}</ul>}
      </section>
    </div>
  );
});
