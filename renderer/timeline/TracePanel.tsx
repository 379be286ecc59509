// trace mode's pane of the Session screen: what the probe dropped, the timeline, and the
// causality tree of the resource whose callback was clicked there.

import { memo, useState } from 'react';
import { formatBytes } from '../../main/common/format';
import type { HostApi, SessionView } from '../../main/ui/ui-api';
import { CausalityTree } from './CausalityTree';
import { TraceTimeline } from './TraceTimeline';

interface Props {
  readonly api: HostApi;
  readonly view: SessionView;
  readonly onMode: () => void;
}

export function TracePanel({ api, view, onMode }: Props) {
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const [tracedFrom, setTracedFrom] = useState<number | null>(null);
  if (view.config.mode !== 'trace') {
    return (
      <p className="muted pane-empty">
        The timeline of loop turns and callbacks, and what caused what, come in trace mode (it costs the most: every async event goes to loopscope).{' '}
        {view.status === 'live' && <button onClick={onMode}>Switch to trace mode</button>}
      </p>
    );
  }
  return (
    <div className="trace-panel">
      <Drops frames={view.dropped.frames} bytes={view.dropped.bytes} />
      <TraceTimeline api={api} sessionId={view.id} replayS={view.replay?.positionS ?? null} dropped={view.dropped.frames}
        selected={selected} onSelect={setSelected} onTracedFrom={setTracedFrom} />
      <CausalityTree api={api} sessionId={view.id} asyncId={selected} tracedFrom={tracedFrom} onSelect={setSelected} />
    </div>
  );
}

/** The probe's drops, where they matter most: a trace with gaps. */
const Drops = memo(function Drops({ frames, bytes }: { readonly frames: number; readonly bytes: number }) {
  if (frames === 0) return null;
  return (
    <p className="state error drops-banner" role="alert" data-testid="trace-drops">
      The probe dropped {frames.toLocaleString('en')} frames ({formatBytes(bytes)}) because loopscope read too slowly: the trace has gaps there, and the counts are low.
      Fewer events (no --promises, a quieter stretch) or a faster machine keep it whole.
    </p>
  );
});
