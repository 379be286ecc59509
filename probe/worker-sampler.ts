// The CPU sampler as the probe's worker runs it: the sampler itself (cpu-sampler.ts) on the
// worker's inspector session, its table of samples (profile-table.ts), what it sends on the
// wire, its state, and the blocked reports' stacks from its samples (block-blame.ts) for the
// watchdog. A new sampler is started when the settings change the interval or turn it on or
// off: the interval cannot change while V8's profiler runs.

import { blameBlock } from './block-blame';
import { DEFAULT_SAMPLE_INTERVAL_MS } from './constants';
import { CpuSampler, type InspectorSession } from './cpu-sampler';
import { plainUrl, ProfileTable } from './profile-table';
import { SourceLines } from './source-lines';
import type { WorkerToMain } from './threads';
import type { BlockSamples } from './watchdog';
import { MessageType, type ProbeConfig, type ProfileBatch, type ProfilerState, type StackFrame } from './wire';
import { encodeProfilerState } from './wire-json';
import { encodeProfileDictionary, encodeProfileSamples } from './wire-profile';

/** What the sampler needs of the worker: its connection, its drop counts, the main thread, its wake-up. */
export interface SamplerLink {
  /** Whether frames can go now: the hello is out and the socket has room. */
  canSend(): boolean;
  send(frame: Uint8Array): void;
  countDrop(type: number): void;
  post(message: WorkerToMain): void;
  /** Blocks may be waiting for these samples. */
  wake(): void;
}

export interface SamplerSetup {
  readonly probeFile: string;
  readonly clockOffsetUs: number;
  /** Why the sampler cannot run in this process, if it cannot. */
  readonly unavailable: string | undefined;
}

const intervalOf = (c: ProbeConfig): number => c.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;

export class WorkerSampler implements BlockSamples {
  private readonly table: ProfileTable;
  private readonly sourceLines = new SourceLines();
  private sampler: CpuSampler | undefined;
  private state: ProfilerState | undefined;

  constructor(
    private session: InspectorSession | undefined,
    private readonly setup: SamplerSetup,
    config: ProbeConfig,
    private readonly link: SamplerLink,
    private readonly nowMs: () => number,
  ) {
    this.table = new ProfileTable({ file: setup.probeFile }, setup.clockOffsetUs, this.sourceLines.body);
    this.sampler = this.make(config);
  }

  get active(): boolean {
    return this.sampler?.active ?? false;
  }

  get coveredUntilMs(): number {
    return this.sampler?.coveredUntilMs ?? 0;
  }

  harvest(): void {
    this.sampler?.harvest();
  }

  /** The stack of the samples from `startMs` to `endMs` (main thread's clock). */
  blame(startMs: number, endMs: number, interrupt: readonly StackFrame[] | undefined): ReturnType<BlockSamples['blame']> {
    const fromUs = startMs * 1000;
    const toUs = endMs * 1000;
    const { nodes } = this.table.samplesBetween(fromUs, toUs);
    if (nodes.length === 0) return undefined;
    return blameBlock(this.table, {
      nodes,
      lines: this.table.linesBetween(fromUs, toUs),
      // As the samples name files: paths, not file:// URLs.
      interrupt: interrupt?.map((f) => ({ ...f, url: plainUrl(f.url) })),
      callLine: this.sourceLines.callLine,
    });
  }

  /**
   * Why a block from `startMs` to `endMs` has no samples, where the sampler can tell: it had not
   * started yet (its first start waits for the main thread, which a block at the program's
   * start holds), or it was off, paused or restarting. Undefined when it was on throughout.
   */
  unsampled(startMs: number, endMs: number): string | undefined {
    const sampler = this.sampler;
    const reason = this.state?.reason;
    const off = `the CPU sampler was off${reason ? `: ${reason}` : ''}`;
    if (!sampler) return off;
    // Never on: starting still, or its start failed (the state it told says why).
    if (sampler.firstOnMs === undefined) return this.state?.state === 'off' ? off : 'the CPU sampler had not started yet';
    if (startMs < sampler.firstOnMs) return 'the CPU sampler had not started yet';
    if (sampler.onSinceMs === undefined) return this.state?.state === 'paused' ? `the CPU sampler was paused${reason ? `: ${reason}` : ''}` : off;
    if (startMs < sampler.onSinceMs) return 'the CPU sampler was paused for part of the block';
    if (sampler.coveredUntilMs < endMs) return 'the block\'s CPU samples did not arrive in time';
    return undefined;
  }

  /**
   * The session to sample through, once there is one: a worker thread's loop reaches its
   * thread through NodeWorker (node-workers.ts), after the sampler was made.
   */
  sampleThrough(session: InspectorSession, config: ProbeConfig): void {
    if (this.session) return;
    this.session = session;
    this.sampler = this.make(config);
  }

  /** The settings changed: a new sampler when the interval or on/off changed. */
  reconfigure(before: ProbeConfig, after: ProbeConfig): void {
    if (this.wanted(before) === this.wanted(after) && intervalOf(before) === intervalOf(after)) return;
    this.sampler?.stop();
    this.sampler = this.make(after);
  }

  /** Once connected: the state so far goes after the hello. */
  connected(): void {
    if (this.state) this.link.send(encodeProfilerState(this.state));
  }

  /** At the target's exit: the last samples, then `done`. */
  finish(timeoutMs: number, done: () => void): void {
    if (this.sampler) this.sampler.finish(timeoutMs, done);
    else done();
  }

  stop(): void {
    this.sampler?.stop();
  }

  private wanted(c: ProbeConfig): boolean {
    return (c.profile ?? true) && this.session !== undefined && this.setup.unavailable === undefined;
  }

  private make(config: ProbeConfig): CpuSampler | undefined {
    const intervalMs = intervalOf(config);
    if (!this.session || !this.wanted(config)) {
      const reason = this.setup.unavailable ?? (this.session ? 'turned off (--no-profile)' : 'no inspector in this process');
      this.changed({ state: 'off', intervalMs, reason });
      return undefined;
    }
    const sampler = new CpuSampler(this.session, this.table, intervalMs, { harvested: (b) => this.send(b), state: (s) => this.changed(s) }, this.nowMs);
    sampler.start();
    return sampler;
  }

  private changed(state: ProfilerState): void {
    this.state = state;
    this.link.post({ type: 'sampling', on: state.state === 'on' });
    if (this.link.canSend()) this.link.send(encodeProfilerState(state));
  }

  /** Samples refer to dictionary entries: both go, or neither (the entries then go with the next). */
  private send(batch: ProfileBatch): void {
    if (!this.link.canSend()) {
      this.link.countDrop(MessageType.ProfileSamples);
      return;
    }
    const dictionary = this.table.unsent();
    if (dictionary) this.link.send(encodeProfileDictionary(dictionary));
    this.table.markSent();
    this.link.send(encodeProfileSamples(batch));
    this.link.wake();
  }
}
