// The profile bottom-up: each function with its self time (the samples it was the leaf of)
// and total time (the samples it was anywhere in), sortable; a row opens to its own time by
// line, and the program's own lines open in the editor.

import { useState } from 'react';
import type { FunctionRow, ProfileView } from '../../main/ui/ui-api';
import { frameWhere, KIND_NAMES, opensInEditor, samplesMs, share } from './profile-format';

interface Props {
  readonly view: ProfileView;
  readonly onOpen: (url: string, line: number, column: number) => void;
}

const SHOWN = 60;

export function BottomUpTable({ view, onOpen }: Props) {
  const [by, setBy] = useState<'self' | 'total'>('self');
  const [open, setOpen] = useState<number | undefined>(undefined);
  const rows = [...view.functions].sort((a, b) => b[by] - a[by]).slice(0, SHOWN);
  const line = (r: FunctionRow): number => r.lines[0]?.[0] ?? view.frames[r.frame]!.lineNumber;
  return (
    <table className="bottom-up" data-testid="bottom-up">
      <thead>
        <tr>
          <th>Function</th>
          <th>Where</th>
          <th><button aria-pressed={by === 'self'} onClick={() => setBy('self')}>Self</button></th>
          <th><button aria-pressed={by === 'total'} onClick={() => setBy('total')}>Total</button></th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const f = view.frames[r.frame]!;
          const expanded = open === r.frame;
          return [
            <tr key={r.frame} className={`fn-${f.kind}`} data-testid="bottom-up-row">
              <td>
                {r.lines.length > 1 && <button className="toggle" aria-expanded={expanded} onClick={() => setOpen(expanded ? undefined : r.frame)}>{expanded ? '▾' : '▸'}</button>}
                <code>{f.functionName}</code> <span className="muted">{KIND_NAMES[f.kind]}</span>
              </td>
              <td>
                {opensInEditor(f)
                  ? <button className="frame" title="Open in the editor" onClick={() => onOpen(f.url, line(r), 0)}>{frameWhere(f, line(r))}</button>
                  : <span className="muted">{frameWhere(f, line(r))}</span>}
              </td>
              <td>{samplesMs(view, r.self)} <span className="muted">{share(view, r.self)}</span></td>
              <td>{samplesMs(view, r.total)} <span className="muted">{share(view, r.total)}</span></td>
            </tr>,
            ...(expanded ? r.lines.map(([l, n]) => (
              <tr key={`${r.frame}:${l}`} className="line-row">
                <td />
                <td>{opensInEditor(f) ? <button className="frame" onClick={() => onOpen(f.url, l, 0)}>{frameWhere(f, l)}</button> : frameWhere(f, l)}</td>
                <td>{samplesMs(view, n)} <span className="muted">{share(view, n)}</span></td>
                <td />
              </tr>
            )) : []),
          ];
        })}
      </tbody>
    </table>
  );
}
