// A live probe connection as a session: its frames feed a SessionFeed, and whoever watches
// it (the terminal view, the window, a recorder) hears of each frame and of the end. trace
// mode's tasks samples are completed here from the events before them (event-views.ts), so
// that every view, and every recording, has them whole.

import { HEADER_BYTES, MessageType, type Hello, type ProbeMessage, type RawFrame } from '../../probe/wire';
import { encodeTasks } from '../../probe/wire-json';
import type { ProbeConnection } from '../server/probe-server';
import { EventViews } from './event-views';
import { FeedView, SessionFeed, type FeedOptions, type SessionSource } from './session-feed';
import { TERMINATED_REASON } from './loop-identity';

/** A frame as it arrived, and what it said (for recorders: raw bytes, time, and the decoded message). */
export type FrameListener = (raw: RawFrame, receivedAtMs: number, message: ProbeMessage) => void;

export class LiveSource extends FeedView implements SessionSource {
  readonly feed: SessionFeed;
  readonly connectedAtMs = Date.now();
  private ended: { error: string | undefined } | undefined;
  private readonly frameListeners = new Set<FrameListener>();
  private readonly changeListeners = new Set<() => void>();
  private readonly views = new EventViews();

  constructor(readonly connection: ProbeConnection, options: FeedOptions = {}) {
    super();
    this.feed = new SessionFeed(options);
    this.feed.apply({ type: 'hello', hello: connection.hello });
    // A bad frame throws out of here: the probe server ends the connection and says why.
    connection.on('frame', (raw, receivedAtMs) => {
      const decoded = this.feed.decode(raw);
      const message = this.views.take(decoded);
      this.feed.applyDecoded(message);
      // A completed sample is what recorders keep, as if the probe had sent it so.
      const frame = message === decoded || message.type !== 'tasks' ? raw : { type: MessageType.Tasks, payload: encodeTasks(message.sample).subarray(HEADER_BYTES) };
      for (const l of this.frameListeners) l(frame, receivedAtMs, message);
      this.changed();
    });
    connection.on('close', (error) => {
      // A worker thread stopped from outside: its probe's connection ends with no goodbye. The
      // views hear it as one (loopscope's own, not the probe's: a recording does not hold it).
      if (!error && !this.feed.state.goodbye && connection.hello.threadId !== 0 && connection.endedByProbe) {
        this.feed.apply({ type: 'goodbye', goodbye: { reason: TERMINATED_REASON } });
      }
      this.ended = { error };
      this.changed();
    });
  }

  get hello(): Hello {
    return this.connection.hello;
  }

  get isClosed(): boolean {
    return this.ended !== undefined;
  }

  /** Why the connection ended, when it did not end cleanly. */
  get closeError(): string | undefined {
    return this.ended?.error;
  }

  /** Every frame from now on; returns the unsubscribe function. */
  onFrame(listener: FrameListener): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /** After each frame, and at the end; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Resolves once the probe has closed its end, or after `timeoutMs`. */
  whenClosed(timeoutMs: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.connection.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }
}
