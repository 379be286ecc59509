// Blocked-loop reports grouped by where they blocked, the most blocked time first: how many
// times, how long in all and at most, and the stack (Node's own frames dimmed). Selecting a
// group selects its longest block's time, for the profile. The program's own frames open in
// the editor; Node's and natives do not.

import { memo, useState } from 'react';
import { frameKind, frameParts } from '../../main/common/format';
import type { BlockedView, BlockGroupView, StackFrame, StackSource, UiApi } from '../../main/ui/ui-api';
import { formatMs } from '../../main/common/format';
import { blockRange, type TimeRange } from '../profile/time-range';

interface Props {
  readonly api: UiApi;
  readonly groups: readonly BlockGroupView[];
  /** A block going on now, if any: its group is known once its samples come, when it ends. */
  readonly ongoing: BlockedView | undefined;
  readonly count: number;
  readonly thresholdMs: number;
  /** The key of the selected group. */
  readonly selected: string | undefined;
  readonly onSelect: (key: string, range: TimeRange) => void;
}

const SHOWN = 30;
const FRAMES = 5;

const SOURCES: Readonly<Record<StackSource, { label: string; title: string }>> = {
  samples: { label: 'samples', title: 'From the CPU samples taken inside the block' },
  interrupt: { label: 'interrupt', title: 'From the watchdog\'s interrupt, taken inside the block (it had no CPU samples)' },
  'late-interrupt': { label: 'late', title: 'Taken after the block ended: it may show what ran next, not what blocked' },
};

export const BlockGroups = memo(function BlockGroups({ api, groups, ongoing, count, thresholdMs, selected, onSelect }: Props) {
  const [note, setNote] = useState<{ text: string; bad: boolean; key: string } | undefined>(undefined);
  const open = (key: string, f: StackFrame): void => {
    api.openInEditor(f.url, f.lineNumber, f.columnNumber).then(
      () => setNote({ text: `opened ${frameParts(f).where} in the editor`, bad: false, key }),
      (err: Error) => setNote({ text: err.message, bad: true, key }),
    );
  };
  return (
    <section className="block-groups" data-testid="block-groups">
      <h3>Blocked loop by place ({count} blocks{groups.length > 0 ? ` in ${groups.length} place${groups.length === 1 ? '' : 's'}` : ''})</h3>
      {ongoing && <p className="error" data-testid="blocked-now">Blocked now, for {formatMs(ongoing.durationMs)} so far{ongoing.stackSource === 'samples' ? '' : ': where, once it ends and its samples come'}.</p>}
      {groups.length === 0
        ? <p className="muted">No block longer than {thresholdMs} ms yet.</p>
        : (
          <ol>
            {groups.slice(0, SHOWN).map((g) => {
              const source = g.stackSource ? SOURCES[g.stackSource] : undefined;
              return (
                <li key={g.key} className={g.key === selected ? 'selected' : undefined} data-testid="block-group">
                  <div className="group-head">
                    <button className="select-group" aria-pressed={g.key === selected} title="Show the CPU profile of this group's longest block" onClick={() => onSelect(g.key, blockRange(g.longestT, g.longestMs))}>
                      {g.count === 1 ? <>{formatMs(g.maxMs)} once</> : <><strong>{g.count}×</strong> {formatMs(g.totalMs)} in all, longest {formatMs(g.maxMs)}</>}
                    </button>
                    {g.ongoing && <span className="error"> blocked now</span>}
                    {source && <span className={`source source-${g.stackSource}`} title={source.title}>{source.label}</span>}
                  </div>
                  {g.stack.length === 0
                    ? <p className="muted">No stack was taken.</p>
                    : (
                      <ul className="stack">
                        {g.stack.slice(0, FRAMES).map((f, i) => {
                          const { name, where } = frameParts(f);
                          const own = frameKind(f) === 'own';
                          return (
                            <li key={i} className={own ? undefined : 'dim'}>
                              <code>{name}</code> <span className="muted">{where}</span>
                              {own && <button className="open-frame" aria-label={`open ${where} in the editor`} onClick={() => open(g.key, f)}>↗</button>}
                            </li>
                          );
                        })}
                      </ul>
                    )}
                  {note?.key === g.key && <p className={note.bad ? 'error' : 'muted'} role="status">{note.text}</p>}
                </li>
              );
            })}
          </ol>
        )}
    </section>
  );
});
