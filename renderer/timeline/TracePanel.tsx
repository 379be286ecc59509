// trace mode's part of the Session screen: the timeline, and the causality tree of the
// resource whose callback was clicked there.

import { memo, useState } from 'react';
import type { UiApi } from '../../main/ui/ui-api';
import { CausalityTree } from './CausalityTree';
import { TraceTimeline } from './TraceTimeline';

interface Props {
  readonly api: UiApi;
  readonly sessionId: string;
}

/** memo: it fetches its own data; a session update has nothing for it. */
export const TracePanel = memo(function TracePanel({ api, sessionId }: Props) {
  const [selected, setSelected] = useState<number | undefined>(undefined);
  return (
    <div className="trace-panel">
      <TraceTimeline api={api} sessionId={sessionId} selected={selected} onSelect={setSelected} />
      <CausalityTree api={api} sessionId={sessionId} asyncId={selected} onSelect={setSelected} />
    </div>
  );
});
