// Tabs over one panel of fixed place and size: the panel keeps its box whichever tab shows
// and however much its content grows (it scrolls inside). The tab strip is one Tab stop, the
// selected tab; the arrow keys, Home and End select another (the WAI-ARIA tabs pattern).

import { useRef, type KeyboardEvent, type ReactNode } from 'react';
import { PartBoundary } from './PartBoundary';
import { tabAfterKey } from './tab-keys';

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
  const list = useRef<HTMLDivElement>(null);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const next = tabAfterKey(e.key, tabs.findIndex((t) => t.id === current), tabs.length);
    const tab = next === undefined ? undefined : tabs[next];
    if (next === undefined || !tab) return;
    e.preventDefault();
    onSelect(tab.id);
    // Focus goes with the selection: the tab selected is the strip's Tab stop.
    list.current?.querySelectorAll<HTMLElement>('[role="tab"]')[next]?.focus();
  };
  return (
    <section className="tabs">
      <div className="tab-list" role="tablist" aria-orientation="horizontal" ref={list} onKeyDown={onKeyDown}>
        {tabs.map((t) => (
          <button key={t.id} role="tab" id={`tab-${t.id}`} aria-selected={t.id === current} aria-controls="tab-panel" tabIndex={t.id === current ? 0 : -1} onClick={() => onSelect(t.id)}>{t.label}</button>
        ))}
      </div>
      <div className="tab-panel" id="tab-panel" role="tabpanel" aria-labelledby={`tab-${current}`} data-testid="tab-panel" data-tab={current}>
        {/* Keyed by tab: another tab starts afresh, whatever failed in this one. */}
        <PartBoundary key={current} what={`The ${tabs.find((t) => t.id === current)?.name ?? current} pane`}>{children}</PartBoundary>
      </div>
    </section>
  );
}
