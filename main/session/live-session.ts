// Binds a probe connection to a SessionState, and tells listeners when it changes.

import type { ProbeConnection } from '../server/probe-server';
import { applyMessage, initialSessionState, type SessionState } from './session-state';
import { TraceModel } from './trace-model';

export class LiveSession {
  private current: SessionState;
  private readonly listeners: ((s: SessionState) => void)[] = [];
  readonly connectedAtMs = Date.now();
  private closedError: string | undefined;
  private closed = false;
  /** trace mode's causality tree and loop turns. */
  readonly trace = new TraceModel();
  /** The probe's string dictionary so far, for a recording that starts mid-session. */
  readonly dictionary = new Map<number, string>();

  constructor(readonly connection: ProbeConnection) {
    this.current = applyMessage(initialSessionState, { type: 'hello', hello: connection.hello });
    connection.on('message', (message) => {
      if (message.type === 'taskEvents') this.trace.apply(message.batch);
      else if (message.type === 'dictionary') for (const [id, text] of message.entries) this.dictionary.set(id, text);
      this.current = applyMessage(this.current, message);
      for (const l of this.listeners) l(this.current);
    });
    connection.on('close', (error) => {
      this.closed = true;
      this.closedError = error;
      for (const l of this.listeners) l(this.current);
    });
  }

  get state(): SessionState {
    return this.current;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Why the connection ended, when it did not end cleanly. */
  get closeError(): string | undefined {
    return this.closedError;
  }

  onChange(listener: (s: SessionState) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves once the probe has closed its end, or after `timeoutMs`. */
  whenClosed(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.connection.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
