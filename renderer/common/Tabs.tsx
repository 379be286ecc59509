// Tabs over one panel of fixed place and size: the panel keeps its box whichever tab shows
// and however much its content grows (it scrolls inside).

import type { ReactNode } from 'react';
import { PartBoundary } from './PartBoundary';

export interface Tab<Id extends string> {
  readonly id: Id;
  readonly label: ReactNode;
  /** The tab's name in a sentence ("Profile"). */
  readonly name: string;
}

interface Props<Id extends string> {
  readonly tabs: readonly Tab<Id>[];
  readonly current: Id;
  readonly onSelect: (id: Id) => void;
  readonly children: ReactNode;
}

export function Tabs<Id extends string>({ tabs, current, onSelect, children }: Props<Id>) {
  return (
    <section className="tabs">
      <div className="tab-list" role="tablist">
        {tabs.map((t) => (
          <button key={t.id} role="tab" id={`tab-${t.id}`} aria-selected={t.id === current} aria-controls="tab-panel" onClick={() => onSelect(t.id)}>{t.label}</button>
        ))}
      </div>
      <div className="tab-panel" id="tab-panel" role="tabpanel" aria-labelledby={`tab-${current}`} data-testid="tab-panel" data-tab={current}>
        {/* Keyed by tab: another tab starts afresh, whatever failed in this one. */}
        <PartBoundary key={current} what={`The ${tabs.find((t) => t.id === current)?.name ?? current} pane`}>{children}</PartBoundary>
      </div>
    </section>
  );
}
