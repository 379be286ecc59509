// The blocked-loop reports, longest first: how long, when, and the stack taken while blocked.

import type { BlockedView } from '../../main/ui-api';

interface Props {
  readonly blocked: readonly BlockedView[];
  readonly count: number;
  readonly thresholdMs: number;
}

const SHOWN = 50;
const FRAMES = 6;

export function BlockedList({ blocked, count, thresholdMs }: Props) {
  return (
    <section className="blocked" data-testid="blocked-list">
      <h3>Blocked loop ({count})</h3>
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
                  ? <ul className="stack">{b.stack.slice(0, FRAMES).map((f, i) => <li key={i}><code>{f.functionName || '(anonymous)'}</code> <span className="muted">{f.url}:{f.lineNumber}:{f.columnNumber}</span></li>)}</ul>
                  : <p className="muted">No stack: {b.stackError ?? 'none could be taken'}</p>}
              </li>
            ))}
          </ol>
        )}
    </section>
  );
}
