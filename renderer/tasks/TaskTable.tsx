// The async tasks by resource type (tasks and trace modes), sortable by any column. Every
// count says what it counts over: totals over the tasks samples so far, rates over the latest
// interval, alive as of now.

import { memo, useState } from 'react';
import type { SessionView, TaskRow } from '../../main/ui/ui-api';
import { sortRows } from './sort-rows';

type Column = keyof TaskRow;

interface Props {
  readonly rows: readonly TaskRow[] | null;
  readonly window: SessionView['tasksWindow'];
}

function columns(w: NonNullable<SessionView['tasksWindow']>): readonly { key: Column; label: string; title: string }[] {
  const over = `over ${w.spanS.toFixed(1)} s`;
  const rate = `per second, over the latest ${(w.intervalS * 1000).toFixed(0)} ms`;
  return [
    { key: 'type', label: 'type', title: 'resource type' },
    { key: 'created', label: `created (${over})`, title: `resources created ${over} of tasks data` },
    { key: 'createdPerS', label: 'created /s now', title: `resources created ${rate}` },
    { key: 'destroyed', label: `destroyed (${over})`, title: `resources destroyed ${over} of tasks data` },
    { key: 'alive', label: 'alive now', title: 'alive now, of those created since tasks mode came on (older ones are not counted)' },
    { key: 'callbacks', label: `callbacks (${over})`, title: `callbacks run ${over} of tasks data` },
    { key: 'callbacksPerS', label: 'callbacks /s now', title: `callbacks ${rate}` },
    { key: 'callbacksTimed', label: `timed (${over})`, title: `callbacks whose durations were taken ${over} (the percentiles are theirs): a busy type is timed on a sample` },
    { key: 'callbackP50Ms', label: 'p50 ms', title: `callback duration, median ${over}` },
    { key: 'callbackP99Ms', label: 'p99 ms', title: `callback duration, 99th percentile ${over}` },
    { key: 'callbackMaxMs', label: 'max ms', title: `longest callback ${over}` },
  ];
}

export const TaskTable = memo(function TaskTable({ rows, window }: Props) {
  const [sort, setSort] = useState<{ key: Column; descending: boolean }>({ key: 'callbacks', descending: true });
  if (rows === null || window === null) return <p className="muted">Waiting for the first tasks interval…</p>;
  if (rows.length === 0) return <p className="muted">No async activity in this process yet.</p>;
  const cols = columns(window);
  return (
    <table className="task-table" data-testid="task-table">
      <thead>
        <tr>
          {cols.map((c) => (
            <th key={c.key} title={c.title} aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
              <button onClick={() => setSort({ key: c.key, descending: sort.key === c.key ? !sort.descending : c.key !== 'type' })}>{c.label}</button>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {sortRows(rows, sort.key, sort.descending).map((r) => (
          <tr key={r.type}>{cols.map((c) => <td key={c.key}>{r[c.key]}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
});
