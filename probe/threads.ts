// Messages between the probe's two threads, and the timing both must agree on.

import type { Goodbye, ProbeConfig } from './wire';

export type MainToWorker =
  /** The target is exiting: send what is left and a goodbye. */
  | { readonly type: 'goodbye'; readonly goodbye: Goodbye }
  /** The target is exiting: collect the last GC pauses now (the main thread waits for them). */
  | { readonly type: 'exiting' }
  | { readonly type: 'stop'; readonly reason: string }
  /** The target started a worker thread (not up yet). */
  | { readonly type: 'worker-created'; readonly threadId: number }
  /** A worker thread of the target is up (its parent's Worker said 'online'): the probe may go in. */
  | { readonly type: 'worker-online'; readonly threadId: number };

export type WorkerToMain =
  | { readonly type: 'configure'; readonly config: ProbeConfig }
  /** The worker lost or closed its connection: the probe must turn itself off. */
  | { readonly type: 'stopped'; readonly reason: string }
  /** GC pauses are being traced: from now on they come from the worker. */
  | { readonly type: 'gc-traced' }
  /** GC pauses cannot be traced here: the main thread must observe them itself. */
  | { readonly type: 'gc-untraced'; readonly reason: string }
  /** The CPU sampler started or stopped: at exit, its last samples are worth a wait. */
  | { readonly type: 'sampling'; readonly on: boolean };

/**
 * The heartbeat's period, ms. A block must outlast several beats to be told from jitter, and
 * each beat is a timer callback on the main thread (a wake-up when the loop is idle), so: a
 * quarter of the threshold, at most 10 ms (the beats also give the lag histogram its
 * resolution), and no longer than the sampling interval, since samples are taken on beats.
 */
export function beatIntervalMs(config: ProbeConfig): number {
  return Math.max(1, Math.min(10, config.blockThresholdMs / 4, config.intervalMs));
}
