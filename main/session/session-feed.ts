// One probe's session, from its frames: the one place where frames are decoded, the string
// dictionary kept, the reducer applied, the recent samples kept and the trace model fed.
// A live connection (live-source.ts), a recording being written (its keyframes) and a
// recording being replayed (replay/) each feed one, so every view, summary, export and
// keyframe sees the state the same frames give.

import { MessageType, type MetricsSample, type ProbeMessage, type ProfileDictionary, type RawFrame, type TaskEventBatch } from '../../probe/wire';
import { encodeDictionary } from '../../probe/wire-binary';
import { ProbeDecoder } from '../../probe/wire-decoder';
import { SampleRing, RECENT_SAMPLES, type RecentSamples } from './sample-ring';
import { applyMessage, initialSessionState, type SessionState } from './session-state';
import { DEFAULT_TRACE_KEEP_S } from '../common/trace-terms';
import { TraceModel } from './trace-model';
import { PROFILE_SAMPLES, ProfileModel } from './profile-model';

/** What the views, the summary and the exports read of a session. */
export interface SessionData {
  readonly state: SessionState;
  readonly recent: RecentSamples;
  /** trace mode: the causality model and the loop turns. */
  readonly trace: TraceModel;
  /** The CPU samples, for profiles of a time range. */
  readonly profile: ProfileModel;
}

/** A session read through its feed: what live sources, players and replays share. */
export abstract class FeedView implements SessionData {
  abstract readonly feed: SessionFeed;

  get state(): SessionState {
    return this.feed.state;
  }

  get recent(): RecentSamples {
    return this.feed.recent;
  }

  get trace(): TraceModel {
    return this.feed.trace;
  }

  get profile(): ProfileModel {
    return this.feed.profile;
  }
}

/**
 * Where a session's frames come from: a live probe (live-source.ts) or a recording being
 * replayed (replay/replay-session.ts). Whatever shows a session reads it through this.
 */
export interface SessionSource extends SessionData {
  /** After each change of what the session shows; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export interface FeedOptions {
  /** Samples kept for views (default RECENT_SAMPLES); 0 when only the state is needed. */
  readonly recentSamples?: number;
  /** Keep the trace model (default true); false for passes that never look at it. */
  readonly trace?: boolean;
  /** CPU samples kept for profiles (default PROFILE_SAMPLES); 0 when no pass looks at them. */
  readonly profileSamples?: number;
}

export type Dictionary = readonly (readonly [number, string])[];

export class SessionFeed implements SessionData {
  private decoder = new ProbeDecoder();
  private current: SessionState = initialSessionState;
  readonly recent: SampleRing;
  private readonly strings = new Map<number, string>();
  private traceKeepS = DEFAULT_TRACE_KEEP_S;
  private model = this.newModel();
  private readonly keepTrace: boolean;
  /** Event batches waiting for the trace model (see fastForward), oldest first. */
  private pending: TaskEventBatch[] = [];
  private pendingEvents = 0;
  /** While fast-forwarding: only the newest this many events are kept for the model. */
  private pendingLimit: number | undefined;
  private pendingGap = false;
  private readonly listeners = new Set<(m: ProbeMessage) => void>();
  private readonly profileSamples: number;
  private profileModel: ProfileModel;

  constructor(options: FeedOptions = {}) {
    this.recent = new SampleRing(options.recentSamples ?? RECENT_SAMPLES);
    this.keepTrace = options.trace ?? true;
    this.profileSamples = options.profileSamples ?? PROFILE_SAMPLES;
    this.profileModel = new ProfileModel(Math.max(1, this.profileSamples));
  }

  get profile(): ProfileModel {
    return this.profileModel;
  }

  /** The CPU profile's dictionary so far (a recording that starts mid-session begins with it); undefined when empty. */
  get profileDictionary(): ProfileDictionary | undefined {
    return this.decoder.profileSnapshot();
  }

  get state(): SessionState {
    return this.current;
  }

  /** The probe's strings so far (resource types, frames), by id: a recording that starts mid-session begins with them. */
  get dictionary(): ReadonlyMap<number, string> {
    return this.strings;
  }

  get trace(): TraceModel {
    this.applyPending();
    return this.model;
  }

  /** How much of the latest loop turns the trace model keeps, now and after a restore. */
  setTraceKeep(seconds: number): void {
    this.traceKeepS = seconds;
    this.model.setKeep(seconds);
  }

  private newModel(): TraceModel {
    const model = new TraceModel();
    model.setKeep(this.traceKeepS);
    return model;
  }

  /** Decodes one frame and applies it; throws a WireError, naming what is wrong, for a bad frame. */
  push(raw: RawFrame): ProbeMessage {
    const message = this.decode(raw);
    this.take(message);
    return message;
  }

  /**
   * Decodes a frame against the dictionary so far without applying it (a replay reading the
   * samples before a keyframe again); a dictionary frame still adds its entries.
   */
  decode(raw: RawFrame): ProbeMessage {
    return this.decoder.decode(raw);
  }

  /**
   * Applies a message that is already decoded (the hello, which the probe server checks itself;
   * a live loop's frames, which a recording takes from its feed). Its dictionary entries join
   * the decoder's, for frames decoded here later and for a keyframe's snapshot.
   */
  apply(message: ProbeMessage): void {
    this.decoder.adopt(message);
    this.take(message);
  }

  /** Applies a message that this feed's decode() gave, as it is or completed (live-source.ts): its dictionary entries are in already. */
  applyDecoded(message: ProbeMessage): void {
    this.take(message);
  }

  private take(message: ProbeMessage): void {
    if (message.type === 'dictionary') for (const [id, text] of message.entries) this.strings.set(id, text);
    else if (message.type === 'metrics') this.recent.push(message.sample);
    else if (message.type === 'taskEvents' && this.keepTrace) this.traceBatch(message.batch);
    else if ((message.type === 'profileSamples' && this.profileSamples > 0) || message.type === 'profileDictionary') this.profileModel.apply(message);
    this.current = applyMessage(this.current, message);
    for (const l of this.listeners) l(message);
  }

  /** Every message as it is applied; returns the unsubscribe function. */
  onMessage(listener: (m: ProbeMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts again from nothing. */
  reset(): void {
    this.restore(initialSessionState, [], []);
  }

  /**
   * Starts again from a known state (a recording's keyframe): its samples and its dictionaries.
   * Throws a WireError, changing nothing, when a dictionary is not one a probe could have sent.
   */
  restore(state: SessionState, recent: readonly MetricsSample[], dictionary: Dictionary, profile?: ProfileDictionary): void {
    const decoder = new ProbeDecoder();
    // Through the decoder, which checks the entries as it would a frame's.
    if (dictionary.length > 0) decoder.decode({ type: MessageType.Dictionary, payload: encodeDictionary(dictionary).subarray(8) });
    const profileModel = new ProfileModel(Math.max(1, this.profileSamples));
    if (profile) profileModel.apply(decoder.restoreProfile(profile));
    this.profileModel = profileModel;
    this.decoder = decoder;
    this.strings.clear();
    for (const [id, text] of dictionary) this.strings.set(id, text);
    this.current = state;
    this.recent.fill(recent);
    this.model = this.newModel();
    this.pending = [];
    this.pendingEvents = 0;
    this.pendingGap = false;
  }

  /**
   * Applies many frames at once (a replay's seek): every frame is reduced, but only the newest
   * `traceEvents` events are kept for the trace model, which is built when it is next used,
   * so that a seek's work is bounded however much trace data it passes.
   */
  fastForward(traceEvents: number, run: () => void): void {
    this.pendingLimit = traceEvents;
    try {
      run();
    } finally {
      this.pendingLimit = undefined;
    }
  }

  private traceBatch(batch: TaskEventBatch): void {
    if (this.pendingLimit === undefined) {
      this.applyPending();
      this.model.apply(batch);
      return;
    }
    this.pending.push(batch);
    this.pendingEvents += batch.count;
    while (this.pendingEvents - this.pending[0]!.count >= this.pendingLimit) {
      this.pendingEvents -= this.pending.shift()!.count;
      this.pendingGap = true;
    }
  }

  private applyPending(): void {
    if (this.pending.length === 0) return;
    // A model with a hole in its events would pair callbacks across it: start it afresh.
    if (this.pendingGap) this.model = this.newModel();
    for (const batch of this.pending) this.model.apply(batch);
    this.pending = [];
    this.pendingEvents = 0;
    this.pendingGap = false;
  }
}
