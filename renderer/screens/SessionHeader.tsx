// The Session screen's header: the process and which of its loops, where the data comes from, the mode switch, what
// the probe costs and drops, recording, and stopping or closing.

import { formatBytes } from '../../main/common/format';
import type { HostApi, ProbeMode, SessionView } from '../../main/ui/ui-api';
import { RecordButton } from './RecordButton';

const MODES: readonly ProbeMode[] = ['metrics', 'tasks', 'trace'];

const COST_TITLE = "The probe's own time, as % of one core over the last second: its callbacks on the main thread (in tasks and trace modes, not its async hooks) and its worker thread.";
/** What no clock of the probe's sees (BENCHMARKS.md, "The CPU sampler's cost does not depend on how often it samples"). */
const SAMPLER_COST = " Not counted: V8's profiler, which runs in the program while the CPU sampler is on. In loopscope's benchmarks it costs a busy server 1–2% of its requests per second, whatever the sampling interval; turning the sampler off (--no-profile) saves it, and blocks inside native calls are then blamed less surely.";

interface Props {
  readonly api: HostApi;
  readonly view: SessionView;
  readonly onBack: () => void;
  readonly onOpen: (sessionId: string) => void;
  readonly onError: (message: string) => void;
  readonly act: (action: Promise<void>) => void;
}

export function SessionHeader({ api, view, onBack, onOpen, onError, act }: Props) {
  const live = view.status === 'live';
  const replay = view.replay;
  const sampling = live && view.profiler?.state === 'on';
  const dropped = view.dropped.frames > 0;
  return (
    <header className="session-header">
      <button onClick={onBack}>← Start</button>
      <div className="who">
        <strong>pid {view.pid}</strong> <span className="loop-name" data-testid="loop-name" title={view.threadId === 0 ? 'The process\'s main thread' : `Worker thread ${view.threadId}`}>{view.loopName}</span> <span className="muted command" title={view.command.join(' ')}>{view.command.join(' ')}</span>
        <div className="muted" title={`Node ${view.nodeVersion} · ${replay ? `replay of ${replay.file}` : view.how === 'attach' ? 'attached' : 'launched'} · ${view.status} · threshold ${view.config.blockThresholdMs} ms${view.config.promises ? ' · promises tracked' : ''}`}>
          Node {view.nodeVersion} · {replay ? <>replay of <code title={replay.file}>{replay.file.split(/[\\/]/).pop()}</code></> : view.how === 'attach' ? 'attached' : 'launched'} · <span data-testid="status">{view.status}</span>
          {' '}· threshold {view.config.blockThresholdMs} ms{view.config.promises ? ' · promises tracked' : ''}
        </div>
      </div>
      <div className="modes" role="group" aria-label="mode">
        {MODES.map((m) => (
          <button key={m} aria-pressed={view.config.mode === m} disabled={!live} onClick={() => act(api.configure(view.id, { mode: m }))}>{m}</button>
        ))}
      </div>
      {view.probeCost && (
        <div className="cost" data-testid="probe-cost" title={COST_TITLE + (sampling ? SAMPLER_COST : '')}>
          probe: {view.probeCost.mainPercent.toFixed(1)}% main thread + {view.probeCost.workerPercent.toFixed(1)}% worker{sampling ? ' + V8\'s profiler' : ''}
        </div>
      )}
      <div className={dropped ? 'drops bad' : 'drops'} data-testid="drops" data-frames={view.dropped.frames} title="Frames the probe dropped because loopscope read too slowly">
        {dropped ? `dropped ${view.dropped.frames.toLocaleString('en')} frames (${formatBytes(view.dropped.bytes)})` : 'nothing dropped'}
      </div>
      {!replay && <RecordButton api={api} view={view} onOpen={onOpen} onError={onError} />}
      {live && <button onClick={() => act(api.stop(view.id))}>{view.how === 'attach' ? 'Detach' : 'Stop'}</button>}
      {/* Back to Start once the store drops the session (App), not when the call returns: the
          store applies its 'closed' event a frame later, and Start would list it until then. */}
      {!live && <button onClick={() => act(api.close(view.id))}>Close</button>}
    </header>
  );
}
