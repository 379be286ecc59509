// Tabs over one panel of fixed place and size: the panel keeps its box whichever tab shows
// and however much its content grows (it scrolls inside).

import type { ReactNode } from 'react';

export interface Tab<Id extends string> {
  readonly id: Id;
  readonly label: ReactNode;
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
        {children}
      </div>
    </section>
  );
}
