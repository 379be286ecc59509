// The blocked-loop reports, longest first: how long, when, and the stack taken while blocked.
// A frame copies its `file:line:column` when clicked, and opens in the editor from its button.

import { memo, useState } from 'react';
import { frameParts } from '../../main/common/format';
import type { BlockedView, HostApi, StackFrame } from '../../main/ui/ui-api';

interface Props {
  readonly api: HostApi;
  readonly blocked: readonly BlockedView[];
  readonly count: number;
  readonly thresholdMs: number;
}

const SHOWN = 50;
const FRAMES = 6;

export const frameLocation = (f: StackFrame): string => `${f.url}:${f.lineNumber}:${f.columnNumber}`;

// memo: the store keeps `blocked` the same array while it does not change, so most updates skip this.
export const BlockedList = memo(function BlockedList({ api, blocked, count, thresholdMs }: Props) {
  const [note, setNote] = useState<{ text: string; bad: boolean } | undefined>(undefined);
  const copy = (f: StackFrame): void => {
    const where = frameLocation(f);
    navigator.clipboard.writeText(where).then(
      () => setNote({ text: `copied ${where}`, bad: false }),
      () => setNote({ text: `could not copy: select ${where} and copy it by hand`, bad: true }),
    );
  };
  const open = (f: StackFrame): void => {
    api.openInEditor(f.url, f.lineNumber, f.columnNumber).then(
      () => setNote({ text: `opened ${frameLocation(f)} in the editor`, bad: false }),
      (err: Error) => setNote({ text: err.message, bad: true }),
    );
  };
  return (
    <section className="blocked" data-testid="blocked-list">
      <h3>Blocked loop ({count})</h3>
      {note && <p className={note.bad ? 'error' : 'muted'} role="status">{note.text}</p>}
      {blocked.length === 0
        ? <p className="muted">No block longer than {thresholdMs} ms yet. When the loop blocks, the code that blocks it shows here.</p>
        : (
          <ol>
            {blocked.slice(0, SHOWN).map((b) => (
              <li key={b.id} className={b.ongoing ? 'ongoing' : undefined}>
                <div>
                  <strong>{b.durationMs.toFixed(1)} ms</strong>{b.ongoing ? ' (still blocked)' : ''} at +{b.t.toFixed(1)} s
                  <span className="muted"> ({new Date(b.at).toLocaleTimeString()})</span>
                </div>
                {b.stack.length > 0
                  ? (
                    <ul className="stack">
                      {b.stack.slice(0, FRAMES).map((f, i) => {
                        const { name, kind, where } = frameParts(f);
                        return (
                          <li key={i}>
                            {kind === 'builtin' || kind === 'eval'
                              // No file to copy or open.
                              ? <span className="frame"><code>{name}</code> <span className="muted">{where}</span></span>
                              : (
                                <>
                                  <button className="frame" title="Copy file:line:column" onClick={() => copy(f)}>
                                    <code>{name}</code> <span className="muted">{frameLocation(f)}</span>
                                  </button>
                                  <button className="open-frame" title="Open in the editor" aria-label={`open ${frameLocation(f)} in the editor`} onClick={() => open(f)}>↗</button>
                                </>
                              )}
                          </li>
                        );
                      })}
                    </ul>
                  )
                  : <p className="muted">No stack: {b.stackError ?? 'none could be taken'}</p>}
              </li>
            ))}
          </ol>
        )}
    </section>
  );
});
