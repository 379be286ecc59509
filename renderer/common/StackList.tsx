// A stack, innermost first: the program's own frames stand out, Node's and V8's are dimmed.
// A frame with a file copies its `file:line:column` when clicked; the program's own frames
// also open in the editor from their ↗ (Node's `node:` files are not on disk to open). What
// a click did, or why it failed, shows beside that frame.

import { useState } from 'react';
import { frameParts } from '../../main/common/format';
import type { HostApi, StackFrame } from '../../main/ui/ui-api';

interface Props {
  readonly api: HostApi;
  readonly frames: readonly StackFrame[];
  /** The session's working directory, to shorten paths. */
  readonly cwd?: string;
}

export const frameLocation = (f: StackFrame): string => `${f.url}:${f.lineNumber}:${f.columnNumber}`;

interface Note {
  readonly index: number;
  readonly text: string;
  readonly bad: boolean;
}

export function StackList({ api, frames, cwd = '' }: Props) {
  const [note, setNote] = useState<Note | undefined>(undefined);
  const copy = (f: StackFrame, index: number): void => {
    const where = frameLocation(f);
    navigator.clipboard.writeText(where).then(
      () => setNote({ index, text: `copied ${where}`, bad: false }),
      () => setNote({ index, text: `could not copy: select ${where} and copy it by hand`, bad: true }),
    );
  };
  const open = (f: StackFrame, index: number): void => {
    api.openInEditor(f.url, f.lineNumber, f.columnNumber).then(
      () => setNote({ index, text: 'opened in the editor', bad: false }),
      (err: Error) => setNote({ index, text: err.message, bad: true }),
    );
  };
  return (
    <ul className="stack">
      {frames.map((f, i) => {
        const { name, kind, where } = frameParts(f, cwd);
        return (
          <li key={i} className={kind === 'own' ? 'own-frame' : 'node-frame'} data-kind={kind}>
            {kind === 'builtin' || kind === 'eval'
              // No file to copy or open.
              ? <span className="frame"><code>{name}</code> <span className="muted">{where}</span></span>
              : <button className="frame" title="Copy file:line:column" onClick={() => copy(f, i)}><code>{name}</code> <span className="muted">{where}</span></button>}
            {kind === 'own' && (
              <button className="open-frame" title="Open in the editor" aria-label={`open ${frameLocation(f)} in the editor`} onClick={() => open(f, i)}>↗</button>
            )}
            {note?.index === i && <span className={note.bad ? 'frame-note error' : 'frame-note muted'} role="status">{note.text}</span>}
          </li>
        );
      })}
    </ul>
  );
}
