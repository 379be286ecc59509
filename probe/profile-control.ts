// The main thread's half of the CPU sampler (the worker's half is cpu-sampler.ts): starting
// and ending the titled console profiles through which the worker harvests V8's samples. The
// function is made here once and left on the global object under a symbol, as the stack
// reader is (stack-here.ts): each harvest's evaluate only calls it.
//
// It calls the inspector's own console (`inspector.console`), not the global `console`: the
// target may have replaced that one, and Node's wrapper around it would do more than needed.
// The time it takes is the probe's own (own-pauses.ts): the first start makes V8 log every
// compiled function, which is the longest pause the probe causes.

import { performance } from 'node:perf_hooks';
import type { OwnPauses } from './own-pauses';

/** Where the worker's evaluation finds the control function. */
export const PROFILE_CONTROL_KEY = 'loopscope.profile';

export const ProfileOp = { start: 0, end: 1, firstStart: 2 } as const;
export type ProfileOpId = (typeof ProfileOp)[keyof typeof ProfileOp];

/**
 * Each start also starts and ends at once a profile of this title's plus this suffix, in the
 * same call: the two ids it draws step by one unless another session of this thread (a
 * debugger's) drew one in between (cpu-sampler.ts).
 */
export const PAIR_SUFFIX = '-pair';

/**
 * What a call returns: performance.now() and process.hrtime (µs) just before and just after
 * the console call, to time it and to check the profile's clock; or the error's text.
 */
export type ProfileCallResult = readonly [number, number, number, number] | string;

interface ConsoleProfiler {
  profile(title: string): void;
  profileEnd(title: string): void;
}

const hrUs = (): number => Number(process.hrtime.bigint()) / 1000;

/**
 * Why the sampler must not run in this process, if it must not: with `--cpu-prof`, Node's own
 * profiling session receives every console profile and prints each one, whole, on the
 * target's stderr.
 */
export function samplerUnavailableReason(execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  const flags = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  if (flags.some((f) => f === '--cpu-prof' || f.startsWith('--cpu-prof='))) return 'the process runs with --cpu-prof (Node would print each of the sampler\'s harvests on its stderr)';
  try {
    require('node:inspector');
    return undefined;
  } catch {
    return 'this Node was built without the inspector';
  }
}

/** Puts the control function on the global object; returns what takes it off again. */
export function installProfileControl(pauses: OwnPauses): () => void {
  const key = Symbol.for(PROFILE_CONTROL_KEY);
  const vmConsole = (require('node:inspector') as { console: ConsoleProfiler }).console;
  const profile = vmConsole.profile.bind(vmConsole);
  const profileEnd = vmConsole.profileEnd.bind(vmConsole);
  // Runs in an interrupt, on top of whatever the target runs: never throws.
  const control = (op: ProfileOpId, title: string): ProfileCallResult => {
    const startMs = pauses.begin();
    const hrBefore = hrUs();
    let after: readonly [number, number] | undefined;
    try {
      if (op === ProfileOp.end) profileEnd(title);
      else {
        profile(title);
        // The readings bracket the start alone: the profile's clock is checked against them.
        after = [performance.now(), hrUs()];
        profile(title + PAIR_SUFFIX);
        profileEnd(title + PAIR_SUFFIX);
      }
    } catch (err) {
      return String((err as Error)?.message ?? err);
    } finally {
      pauses.end(startMs, op === ProfileOp.firstStart ? 'CPU profiler start (V8 logs every compiled function once)' : 'CPU profile harvest', op === ProfileOp.firstStart);
    }
    const [afterMs, hrAfter] = after ?? [performance.now(), hrUs()];
    return [startMs, afterMs, hrBefore, hrAfter];
  };
  Object.defineProperty(globalThis, key, { value: control, configurable: true, enumerable: false, writable: false });
  return () => {
    if ((globalThis as Record<symbol, unknown>)[key] === control) delete (globalThis as Record<symbol, unknown>)[key];
  };
}
