// trace mode's causality tree for the selected resource: the chain of resources that led to
// it, root first, and what it caused in turn, collapsible. Any resource shown can be selected.

import { useState } from 'react';
import type { CausalityNode, CausalityResource, UiApi } from '../../main/ui/ui-api';
import { chainStart, resourceSummary, sliceLabel, typeColor, untracedReason } from './trace-format';
import { usePolled } from './use-polled';

/** A live resource gains callbacks, children and its end: ask again this often. */
const REFRESH_MS = 1000;
/** Levels of the subtree open at first. */
const OPEN_LEVELS = 2;
/** Children listed under a node until "show all" is pressed: a busy server's handle has hundreds. */
const CHILDREN_SHOWN = 12;

interface Props {
  readonly api: UiApi;
  readonly sessionId: string;
  readonly asyncId: number | undefined;
  /** The first async id traced: lower ones were created before tracing started. */
  readonly tracedFrom: number | null;
  readonly onSelect: (asyncId: number) => void;
}

export function CausalityTree({ api, sessionId, asyncId, tracedFrom, onSelect }: Props) {
  return (
    <section className="causality" data-testid="causality-tree">
      {asyncId === undefined
        ? <><h3>Causality</h3><p className="muted">Click a callback on the timeline to see what caused it and what it caused.</p></>
        : <Causality key={`${sessionId}:${asyncId}`} api={api} sessionId={sessionId} asyncId={asyncId} tracedFrom={tracedFrom} onSelect={onSelect} />}
    </section>
  );
}

function Causality({ api, sessionId, asyncId, tracedFrom, onSelect }: Props & { readonly asyncId: number }) {
  const { value, error } = usePolled(() => api.causality(sessionId, asyncId), `${sessionId}:${asyncId}`, REFRESH_MS);
  // Nodes whose open/closed state the user flipped from the default.
  const [flipped, setFlipped] = useState<ReadonlySet<number>>(new Set());
  const flip = (id: number): void => setFlipped((f) => {
    const next = new Set(f);
    if (!next.delete(id)) next.add(id);
    return next;
  });

  if (error) return <><h3>Causality of #{asyncId}</h3><p className="state error" role="alert">Could not load it: {error}</p></>;
  if (value === undefined) return <><h3>Causality of #{asyncId}</h3><p className="muted">Loading…</p></>;
  if (value === null) {
    return (
      <>
        <h3>Causality of #{asyncId}</h3>
        <p className="muted" data-testid="causality-untraced">Resource #{asyncId} was {untracedReason(asyncId, tracedFrom)}. Pick a callback of a resource made since.</p>
      </>
    );
  }
  const self = value.chain[value.chain.length - 1]!;
  return (
    <>
      <h3>Causality of {self.type} #{asyncId}</h3>
      <h4>What led to it</h4>
      <p className="muted chain-start">{chainStart(value.rootTriggerId, tracedFrom)}:</p>
      <ol className="causal-chain" data-testid="causal-chain">
        {value.chain.map((r, i) => (
          <li key={r.asyncId} data-type={r.type}>
            {i === 1 && value.chainHidden > 0 && <div className="muted">… {value.chainHidden} more in between</div>}
            <ResourceButton r={r} current={r.asyncId === asyncId} onSelect={onSelect} />
          </li>
        ))}
      </ol>
      <h4>What it caused</h4>
      {value.tree.children.length === 0 && value.tree.hiddenChildren === 0
        ? <p className="muted">Nothing yet: it has made no other resources.</p>
        : <Children node={value.tree} level={1} flipped={flipped} onFlip={flip} onSelect={onSelect} />}
      {value.treeHidden > 0 && <p className="muted">{value.treeHidden} resources are left out to keep this short; select one further down to see past it.</p>}
    </>
  );
}

interface ChildrenProps {
  readonly node: CausalityNode;
  readonly level: number;
  readonly flipped: ReadonlySet<number>;
  readonly onFlip: (asyncId: number) => void;
  readonly onSelect: (asyncId: number) => void;
}

function Children({ node, level, flipped, onFlip, onSelect }: ChildrenProps) {
  const [all, setAll] = useState(false);
  const shown = all ? node.children : node.children.slice(0, CHILDREN_SHOWN);
  const rest = node.children.length - shown.length;
  return (
    <ul className="causal-tree" data-testid={level === 1 ? 'causal-subtree' : undefined}>
      {shown.map((c) => {
        const open = (level < OPEN_LEVELS) !== flipped.has(c.asyncId);
        const more = c.children.length + c.hiddenChildren;
        return (
          <li key={c.asyncId} data-type={c.type}>
            {more > 0
              ? <button className="toggle" aria-expanded={open} aria-label={open ? 'collapse' : 'expand'} onClick={() => onFlip(c.asyncId)}>{open ? '▾' : '▸'}</button>
              : <span className="toggle" />}
            <ResourceButton r={c} current={false} onSelect={onSelect} />
            {more > 0 && !open && <span className="muted"> ({more} inside)</span>}
            {open && c.children.length > 0 && <Children node={c} level={level + 1} flipped={flipped} onFlip={onFlip} onSelect={onSelect} />}
            {open && c.hiddenChildren > 0 && <div className="muted indent">… and {c.hiddenChildren} more</div>}
          </li>
        );
      })}
      {rest > 0 && <li><button className="more" onClick={() => setAll(true)}>Show {rest} more</button></li>}
      {level === 1 && node.hiddenChildren > 0 && <li className="muted">… and {node.hiddenChildren} more</li>}
    </ul>
  );
}

function ResourceButton({ r, current, onSelect }: { readonly r: CausalityResource; readonly current: boolean; readonly onSelect: (asyncId: number) => void }) {
  return (
    <button className="resource" aria-current={current} onClick={() => onSelect(r.asyncId)} title="Select it: show its own causes and effects">
      <span className="chip" style={{ background: typeColor(r.type) }} />
      <strong>{sliceLabel(r)}</strong> #{r.asyncId} <span className="muted">{resourceSummary(r)}</span>
    </button>
  );
}
