// The workers a worker thread starts before the probe is brought into it: most start theirs
// as they start, and the probe comes only once the thread is up (worker-follow.ts), too late
// to hear Node's 'worker' event. Where the probe is preloaded into every thread (`loopscope
// run`, or a dormant probe), the preload in each worker thread records them, so that the probe,
// once it runs there, follows them at once; without it, the main loop's probe takes them a
// second later. Thread ids only: no Worker is kept alive by this.

import type { Worker } from 'node:worker_threads';
import { guard } from './guard';

const KEY = Symbol.for('loopscope.probe.workerBirths');
/** Workers recorded at most: a thread that starts more before the probe comes has the rest taken by the main loop's probe. */
const MAX_RECORDED = 256;

interface Births {
  readonly created: number[];
  readonly online: Set<number>;
  /** Told of each 'online' once the probe has taken the record. */
  onOnline: ((threadId: number) => void) | undefined;
  readonly listener: (w: Worker) => void;
}

const globals = globalThis as unknown as Record<symbol, Births | undefined>;

/** From the preload, in a worker thread: starts recording the workers it starts. */
export function recordWorkerBirths(): void {
  if (globals[KEY]) return;
  const births: Births = {
    created: [],
    online: new Set(),
    onOnline: undefined,
    listener: guard((w: Worker) => {
      if (births.created.length >= MAX_RECORDED) return;
      const { threadId } = w;
      births.created.push(threadId);
      w.once('online', guard(() => {
        if (births.onOnline) births.onOnline(threadId);
        else births.online.add(threadId);
      }));
    }),
  };
  globals[KEY] = births;
  process.on('worker', births.listener);
}

const ignore = (): void => undefined;

/**
 * From the probe, once it runs in this thread: what was recorded (each worker started, then
 * each one up), and each one that comes up until the returned function is called (when the
 * probe stops: nothing of it is kept alive). Recording stops; the probe's own 'worker'
 * listener takes over. Nothing when nothing was recorded, or it was taken before.
 */
export function takeWorkerBirths(created: (threadId: number) => void, online: (threadId: number) => void): () => void {
  const births = globals[KEY];
  if (!births || births.onOnline) return ignore;
  process.removeListener('worker', births.listener);
  for (const threadId of births.created) created(threadId);
  for (const threadId of births.online) online(threadId);
  births.created.length = 0;
  births.online.clear();
  births.onOnline = online;
  return () => {
    births.onOnline = ignore;
  };
}
