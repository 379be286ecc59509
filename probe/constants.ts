// Names and defaults shared by the probe and the code that launches or injects it.

import type { ProbeConfig } from './wire';

export const PROBE_VERSION = '0.1.0';

/** Key (Symbol.for) of the global that marks a running probe, so it is never loaded twice. */
export const PROBE_GLOBAL = 'loopscope.probe';

/** Environment variables that configure a preloaded probe. */
export const ENV = {
  socket: 'LOOPSCOPE_SOCKET',
  token: 'LOOPSCOPE_TOKEN',
  mode: 'LOOPSCOPE_MODE',
  promises: 'LOOPSCOPE_PROMISES',
  intervalMs: 'LOOPSCOPE_INTERVAL_MS',
  blockThresholdMs: 'LOOPSCOPE_BLOCK_THRESHOLD_MS',
  profile: 'LOOPSCOPE_PROFILE',
  sampleIntervalMs: 'LOOPSCOPE_SAMPLE_INTERVAL_MS',
  /** '1': the Node processes the target starts load the probe too (the variables stay). */
  follow: 'LOOPSCOPE_FOLLOW',
  /** The target's own NODE_OPTIONS, restored once the probe has loaded (unless following). */
  originalNodeOptions: 'LOOPSCOPE_ORIGINAL_NODE_OPTIONS',
} as const;

/**
 * The CPU sampler's interval, ms: the shortest that kept its cost on a busy loop within 2%
 * (BENCHMARKS.md, "CPU sampler"); a block of the default threshold still holds 2–3 samples.
 */
export const DEFAULT_SAMPLE_INTERVAL_MS = 20;

export const DEFAULT_CONFIG: ProbeConfig = {
  mode: 'metrics',
  promises: false,
  intervalMs: 100,
  blockThresholdMs: 50,
  profile: true,
  sampleIntervalMs: DEFAULT_SAMPLE_INTERVAL_MS,
};
