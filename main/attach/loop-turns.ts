// Telling from outside that a target's loop has turned: its probe takes a sample on a heartbeat,
// a timer callback, at most once per turn of the loop, so two samples taken after a moment
// mean the loop has been through a poll phase since. Samples carry the target's clock; an
// expression of ours that ran there between two readings of our clock places it on ours.

import { MessageType } from '../../probe/wire';
import { metricsTimeUs } from '../../probe/wire-binary';
import type { ProbeConnection } from '../server/probe-server';

/** The target's clock against ours, from an expression that ran there. */
export interface ClockLink {
  /** performance.now() here just before the expression was sent. */
  readonly sentMs: number;
  /** performance.now() in the target while it ran. */
  readonly targetMs: number;
}

/**
 * The target's time that is surely later than `ourMs` on our clock: the expression cannot have
 * run before it was sent, so the target's clock is at most `sentMs - targetMs` behind ours.
 */
export function targetTimeAfter(link: ClockLink, ourMs: number): number {
  return ourMs - link.sentMs + link.targetMs;
}

/**
 * Resolves true once the probe has sent two samples taken after `afterTargetMs` (the target's
 * clock), false if it has not within `timeoutMs`. It only taps the connection: whoever takes
 * the session later still gets every message.
 */
export function twoSamplesAfter(connection: Promise<ProbeConnection>, afterTargetMs: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let untap = (): void => undefined;
    let seen = 0;
    let finished = false;
    const done = (turned: boolean): void => {
      finished = true;
      clearTimeout(timer);
      untap();
      resolve(turned);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    void connection.then((c) => {
      if (finished) return;
      untap = c.tap((raw) => {
        if (raw.type !== MessageType.Metrics) return;
        const timeUs = metricsTimeUs(raw.payload);
        if (timeUs !== undefined && timeUs / 1000 > afterTargetMs && ++seen === 2) done(true);
      });
    });
  });
}
