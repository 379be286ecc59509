// The async tasks by resource type (tasks and trace modes), sortable by any column. Every
// count says what it counts over: totals over the tasks samples so far, rates over the latest
// interval, alive as of now.

import { memo, useState } from 'react';
import type { SessionView, TaskRow } from '../../main/ui/ui-api';
import { sortRows } from './sort-rows';
import { taskColumns, type Column } from './task-columns';

const UNTIMED = 'no callback of this type was timed';

interface Props {
  readonly rows: readonly TaskRow[] | null;
  readonly window: SessionView['tasksWindow'];
}

export const TaskTable = memo(function TaskTable({ rows, window }: Props) {
  const [sort, setSort] = useState<{ key: Column; descending: boolean }>({ key: 'callbacks', descending: true });
  if (rows === null || window === null) return <p className="muted">Waiting for the first tasks interval…</p>;
  if (rows.length === 0) return <p className="muted">No async activity in this process yet.</p>;
  const cols = taskColumns(window);
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
          <tr key={r.type}>{cols.map((c) => (r[c.key] === null ? <td key={c.key} title={UNTIMED}>–</td> : <td key={c.key}>{r[c.key]}</td>))}</tr>
        ))}
      </tbody>
    </table>
  );
});
