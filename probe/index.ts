// The probe's entry point. This file is bundled into one CommonJS file with no dependencies
// and loaded into the target either by `node --require <probe>` (configured through the
// environment by loopscope run; or by the user, and then it waits, dormant, for loopscope
// attach: dormant.ts) or by `require(<probe>).attach(...)` evaluated in a running process.
//
// The same file is also the probe's worker thread: see the isMainThread branch.

import { isMainThread, workerData } from 'node:worker_threads';
import { startProbe, type RunningProbe } from './main-thread';
import { runWorker, type WorkerData } from './worker';
import { CONFIG_LIMITS, PROBE_MODES, type ProbeConfig, type ProbeMode } from './wire';
import { ENV, PROBE_GLOBAL, PROBE_VERSION, DEFAULT_CONFIG } from './constants';
import { listenDormant } from './dormant';
import { recordWorkerBirths } from './worker-births';

export interface AttachOptions {
  readonly socketPath: string;
  readonly token: string;
  readonly config?: Partial<ProbeConfig>;
}

/** A worker thread's probe, brought in by the main loop's (worker-follow.ts). */
export interface AttachWorkerOptions extends AttachOptions {
  readonly threadName?: string;
}

export type AttachResult =
  | { readonly status: 'started'; readonly version: string }
  | { readonly status: 'already-running'; readonly version: string }
  | { readonly status: 'failed'; readonly error: string };

interface ProbeGlobal {
  readonly version: string;
  probe: RunningProbe | undefined;
}

const globals = globalThis as unknown as Record<symbol, ProbeGlobal | undefined>;
const GLOBAL_KEY = Symbol.for(PROBE_GLOBAL);

function validConfig(partial: Partial<ProbeConfig>): ProbeConfig {
  const mode: ProbeMode = partial.mode && PROBE_MODES.includes(partial.mode) ? partial.mode : DEFAULT_CONFIG.mode;
  const within = (key: keyof typeof CONFIG_LIMITS): number => {
    const v = partial[key];
    const { min, max } = CONFIG_LIMITS[key];
    return typeof v === 'number' && v >= min && v <= max ? v : DEFAULT_CONFIG[key]!;
  };
  return {
    mode, promises: partial.promises === true, intervalMs: within('intervalMs'), blockThresholdMs: within('blockThresholdMs'),
    profile: partial.profile !== false, sampleIntervalMs: within('sampleIntervalMs'),
  };
}

function start(options: AttachWorkerOptions, loadedBy: 'preload' | 'inject'): AttachResult {
  const existing = globals[GLOBAL_KEY];
  if (existing?.probe && !existing.probe.stopped) return { status: 'already-running', version: existing.version };
  const holder: ProbeGlobal = { version: PROBE_VERSION, probe: undefined };
  globals[GLOBAL_KEY] = holder;
  holder.probe = startProbe(
    {
      socketPath: options.socketPath,
      token: options.token,
      config: validConfig(options.config ?? {}),
      loadedBy,
      probeFile: __filename,
      probeVersion: PROBE_VERSION,
      ...(options.threadName !== undefined ? { threadName: String(options.threadName) } : {}),
    },
    () => {
      if (globals[GLOBAL_KEY] === holder) globals[GLOBAL_KEY] = undefined;
    },
  );
  return { status: 'started', version: PROBE_VERSION };
}

/** The version of the probe running in this process, if one runs (a cheap check before attaching). */
export function runningVersion(): string | undefined {
  const existing = globals[GLOBAL_KEY];
  return existing?.probe && !existing.probe.stopped ? existing.version : undefined;
}

function startGuarded(options: AttachWorkerOptions, loadedBy: 'preload' | 'inject', onWorker = false): AttachResult {
  try {
    if (isMainThread === onWorker) return { status: 'failed', error: onWorker ? 'attachWorker is for worker threads' : 'attach is for the main thread (worker threads are followed from it)' };
    return start(options, loadedBy);
  } catch (err) {
    return { status: 'failed', error: err instanceof Error ? err.message : String(err) };
  }
}

/** Injects the probe into this (running) process. Never throws. */
export function attach(options: AttachOptions): AttachResult {
  return startGuarded(options, 'inject');
}

/** Starts the probe in this worker thread (evaluated there by the main loop's probe). Never throws. */
export function attachWorker(options: AttachWorkerOptions): AttachResult {
  return startGuarded(options, 'inject', true);
}

/**
 * Preloaded by --require: read our settings. When loopscope run follows child processes, they
 * stay in the environment (NODE_OPTIONS with our --require before the target's own options,
 * and the session's token, which the children present: loopscope checks that each is a
 * descendant of the command it started). Otherwise they are taken out, so that the target
 * and its children see the environment they would have had without us.
 * False when there are none (not started by loopscope run).
 */
function startFromEnvironment(): boolean {
  const env = process.env;
  const socketPath = env[ENV.socket];
  const token = env[ENV.token];
  if (!socketPath || !token) return false;
  const config: Partial<ProbeConfig> = {
    mode: env[ENV.mode] as ProbeMode | undefined,
    promises: env[ENV.promises] === '1',
    intervalMs: Number(env[ENV.intervalMs]),
    blockThresholdMs: Number(env[ENV.blockThresholdMs]),
    profile: env[ENV.profile] !== '0',
    sampleIntervalMs: Number(env[ENV.sampleIntervalMs]),
  };
  if (env[ENV.follow] !== '1') {
    const original = env[ENV.originalNodeOptions];
    for (const key of Object.values(ENV)) delete env[key];
    if (original === undefined || original === '') delete env['NODE_OPTIONS'];
    else env['NODE_OPTIONS'] = original;
  }
  start({ socketPath, token, config }, 'preload');
  return true;
}

/** Loaded by --require (Node's preload step is this module's parent), not by require() at run time. */
function preloaded(): boolean {
  return (module as { parent?: { id?: unknown } | null }).parent?.id === 'internal/preload';
}

try {
  if (isMainThread) {
    // Preloaded, but not by loopscope run: dormant until loopscope attach wakes it (wake.ts).
    if (!startFromEnvironment() && preloaded()) listenDormant((r) => startGuarded(r, 'preload'));
  } else if ((workerData as Partial<WorkerData> | undefined)?.loopscopeProbeWorker === true) runWorker(workerData as WorkerData);
  // Preloaded into one of the target's worker threads: the probe comes later (worker-follow.ts).
  else if (preloaded()) recordWorkerBirths();
} catch {
  // Never let the probe break the program it was loaded into.
}
