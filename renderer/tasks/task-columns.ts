// The task table's columns: every count says what it counts over, and the percentiles say they
// are estimates (main/common/estimate.ts). Pure.

import type { SessionView, TaskRow } from '../../main/ui/ui-api';
import { ESTIMATE_MARK, ESTIMATE_NOTE } from '../../main/common/estimate';

export type Column = keyof TaskRow;

export function taskColumns(w: NonNullable<SessionView['tasksWindow']>): readonly { key: Column; label: string; title: string }[] {
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
    { key: 'callbackP50Ms', label: `${ESTIMATE_MARK}p50 ms`, title: `callback duration, median ${over}; ${ESTIMATE_NOTE}` },
    { key: 'callbackP99Ms', label: `${ESTIMATE_MARK}p99 ms`, title: `callback duration, 99th percentile ${over}; ${ESTIMATE_NOTE}` },
    { key: 'callbackMaxMs', label: 'max ms', title: `longest callback ${over}` },
  ];
}
