// The console pane: a launched program's stdout and stderr as they interleaved, fetched as
// lines come (the session's view says how many there are), the newest in view unless the user
// scrolled up; the oldest let go past a bound (and said so); how the program ended.

import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { formatBytes } from '../../main/common/format';
import type { HostApi, SessionView } from '../../main/ui/ui-api';
import { exitIsBad, exitText } from './exit-text';

interface Props {
  readonly api: HostApi;
  readonly view: SessionView;
}

/** Lines kept on screen, like loopscope's own bound. */
const KEPT = 2000;

interface Shown {
  readonly lines: readonly string[];
  /** Number of lines[0]. */
  readonly first: number;
}

export function ConsolePane({ api, view }: Props) {
  const total = view.output?.total ?? 0;
  const [shown, setShown] = useState<Shown>({ lines: [], first: 0 });
  const [error, setError] = useState<string | undefined>(undefined);
  const box = useRef<HTMLPreElement>(null);
  const atEnd = useRef(true);
  const next = shown.first + shown.lines.length;

  useEffect(() => {
    if (view.output === null || total <= next) return undefined;
    let stopped = false;
    api.output(view.id, next).then((out) => {
      if (stopped || !out) return;
      setShown((s) => {
        // Lines loopscope let go of meanwhile leave a gap: start again from what it has.
        const base = out.first === s.first + s.lines.length ? s.lines : [];
        const lines = base.concat(out.lines);
        const cut = Math.max(0, lines.length - KEPT);
        return { lines: cut > 0 ? lines.slice(cut) : lines, first: (base.length > 0 ? s.first : out.first) + cut };
      });
      setError(undefined);
    }, (err: Error) => !stopped && setError(err.message));
    return () => {
      stopped = true;
    };
  }, [api, view.id, view.output, total, next]);

  useLayoutEffect(() => {
    const el = box.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [shown]);

  if (view.output === null) {
    return (
      <p className="muted pane-empty" data-testid="console-none">
        {view.how === 'replay'
          ? 'A recording does not hold the program\'s output.'
          : 'loopscope did not start this process, so its output goes where it always did: an attached process keeps its own stdout and stderr.'}
      </p>
    );
  }
  const exit = view.exit;
  return (
    <div className="console-pane" data-testid="console">
      <div className="console-bar">
        <span className="muted">stdout and stderr, as written · {total} line{total === 1 ? '' : 's'}, {formatBytes(view.output.bytes)}</span>
        {shown.first > 0 && <span className="muted" data-testid="console-dropped"> · the first {shown.first} lines were let go (the last {KEPT} are kept)</span>}
        {exit && <strong className={exitIsBad(exit) ? 'exit bad' : 'exit ok'} data-testid="console-exit">The program {exitText(exit)}</strong>}
      </div>
      {error && <p className="error" role="alert">Could not read the output: {error}</p>}
      <pre
        ref={box}
        className="console-lines"
        data-testid="console-lines"
        data-first={shown.first}
        onScroll={(e) => {
          const el = e.currentTarget;
          atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
        }}
      >
        {shown.lines.length > 0 ? shown.lines.join('\n') : <span className="muted">{emptyText(total, exit !== null)}</span>}
      </pre>
    </div>
  );
}

/** What an empty console says: lines counted but not fetched yet are not "nothing". */
function emptyText(total: number, exited: boolean): string {
  if (total > 0) return 'Reading…';
  return exited ? 'It wrote nothing.' : 'Nothing written yet.';
}
