// The async tasks by resource type (tasks and trace modes), sortable by any column.

import { memo, useState } from 'react';
import type { SessionView, TaskRow } from '../../main/ui/ui-api';
import { sortRows } from './sort-rows';

type Column = keyof TaskRow;
const COLUMNS: readonly { key: Column; label: string }[] = [
  { key: 'type', label: 'type' },
  { key: 'created', label: 'created' },
  { key: 'destroyed', label: 'destroyed' },
  { key: 'alive', label: 'alive' },
  { key: 'callbacks', label: 'callbacks' },
  { key: 'callbacksTimed', label: 'timed' },
  { key: 'callbackP50Ms', label: 'callback p50 ms' },
  { key: 'callbackP99Ms', label: 'callback p99 ms' },
  { key: 'callbackMaxMs', label: 'callback max ms' },
];

export const TaskTable = memo(function TaskTable({ rows, promises }: { readonly rows: readonly TaskRow[] | null; readonly promises: SessionView['promises'] }) {
  const [sort, setSort] = useState<{ key: Column; descending: boolean }>({ key: 'callbacks', descending: true });
  return (
    <section className="tasks" data-testid="task-table">
      <h3>Async tasks by type</h3>
      {promises && <p className={promises.costly ? 'warning' : 'muted'} data-testid="promise-note">{promises.note}</p>}
      {rows === null
        ? <p className="muted">Waiting for the first tasks interval…</p>
        : rows.length === 0
          ? <p className="muted">No async activity in this process yet.</p>
          : (
            <table>
              <thead>
                <tr>
                  {COLUMNS.map((c) => (
                    <th key={c.key} aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                      <button onClick={() => setSort({ key: c.key, descending: sort.key === c.key ? !sort.descending : c.key !== 'type' })}>{c.label}</button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {sortRows(rows, sort.key, sort.descending).map((r) => (
                  <tr key={r.type}>{COLUMNS.map((c) => <td key={c.key}>{r[c.key]}</td>)}</tr>
                ))}
              </tbody>
            </table>
          )}
    </section>
  );
});
