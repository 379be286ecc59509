// The task table's order: by any column, numbers by value and names alphabetically, and the
// unknown (null) last either way. Pure.

import type { TaskRow } from '../../main/ui/ui-api';

export function sortRows(rows: readonly TaskRow[], key: keyof TaskRow, descending: boolean): TaskRow[] {
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return descending ? -order : order;
  });
}
