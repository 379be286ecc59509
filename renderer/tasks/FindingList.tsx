// What the tasks data means, as findings (main/reports/task-findings.ts, the same list the
// CLI's summary prints): each with its figures, what to do, and where in the program.

import { memo } from 'react';
import type { Finding, HostApi } from '../../main/ui/ui-api';
import { StackList } from '../common/StackList';

interface Props {
  readonly api: HostApi;
  readonly findings: readonly Finding[];
  readonly cwd: string;
}

export const FindingList = memo(function FindingList({ api, findings, cwd }: Props) {
  return (
    <ul className="findings" data-testid="task-findings">
      {findings.map((f, i) => (
        <li key={`${f.topic}:${i}`} className={`finding ${f.severity}`} data-topic={f.topic} data-severity={f.severity}>
          <strong>{f.title}</strong> <span className="muted">{f.text}</span>
          {f.action && <div className="action">What to do: {f.action}</div>}
          {f.frames.length > 0 && (
            <>
              <div className="muted">created at</div>
              <StackList api={api} frames={f.frames.slice(0, 4)} cwd={cwd} />
            </>
          )}
          {f.chain.length > 0 && <div className="muted">caused by {f.chain.join(' → ')}</div>}
        </li>
      ))}
    </ul>
  );
});
