// Each loop's probe brings the probe into the worker threads its thread starts, and at an
// attach the main loop's into every worker already running, through NodeWorker sessions
// (node-workers.ts): no inspector port, nothing on the command line. Each worker's probe then
// has its own connection to loopscope (same socket, same token), as a loop of its own, and
// follows the workers it starts in turn.
//
// A worker is only evaluated in once it is up: while it boots, an evaluation is served by an
// interrupt inside Node's own start of the worker, where require fails inside Node (or is
// missing) and touching the loop crashes the process. Its parent's Worker says 'online' once
// the worker's modules are set up; the loop's thread hears of each worker it starts ('worker'
// on its process) and tells this thread (WorkerFollower.createdWorker, onlineWorker). NodeWorker
// lists every worker of the process, whoever started it: one this loop did not start is let go,
// as another loop's to follow; the main loop's follows any that no loop has claimed a second
// after it was listed. Workers already running when the probe came (attach: listed while
// NodeWorker was being enabled, and not started since), and those unclaimed, are not known to
// be up: each is asked whether it runs its script (runningExpression) before it is evaluated in.
//
// A worker the probe could not be brought into is told to loopscope (a notice), so that it is
// not silently missing from the loops; the start is not tried again (a start that failed may
// have left part of itself behind in the worker).

import { BroadcastChannel } from 'node:worker_threads';
import type { ProbeConfig, WorkerUnfollowed } from './wire';
import type { NodeWorkers, WorkerTarget } from './node-workers';
import { followOutcome } from './follow-outcome';
import { guard } from './guard';

export interface FollowOptions {
  readonly probeFile: string;
  readonly socketPath: string;
  readonly token: string;
  /** The settings now (they may have been changed since the start). */
  readonly config: () => ProbeConfig;
  /** The probe's own worker, which is left alone (as are the other loops' probe workers, started from probeFile). */
  readonly ownThreadId: number;
  /** Whether workers may have been running before the probe (it was injected into a running process). */
  readonly workersBefore: boolean;
  /** Whether a worker no loop announced to this one is followed anyway once it must be up (the main loop's). */
  readonly followUnannounced: boolean;
  /** A worker the probe could not be brought into (one that ended meanwhile is not one). */
  readonly unfollowed: (worker: Pick<WorkerUnfollowed, 'threadId' | 'name' | 'cause' | 'reason'>) => void;
}

/**
 * The expression evaluated in a worker: loads the probe by absolute path and starts it there;
 * its promise never rejects. A busy worker serves an evaluation from an interrupt, anywhere in
 * its JavaScript: in the middle of its own require of a built-in module, whose exports are
 * then half made (a worker busy loading perf_hooks failed our start with "Cannot read
 * properties of undefined (reading 'NODE_PERFORMANCE_GC_MINOR')", and went unfollowed in a CI
 * run). So the probe is loaded from
 * a promise reaction, which runs only once the worker's stack is empty. `require` is the
 * inspector's, there only while the evaluation runs: kept for the reaction. The promise is an
 * async function's, V8's own: it does not depend on what the program made of the global Promise.
 */
export function injectWorkerExpression(probeFile: string, options: object): string {
  return `(() => { const load = require; return (async () => { await undefined; try { return load(${JSON.stringify(probeFile)}).attachWorker(${JSON.stringify(options)}); } catch (e) { return { status: 'failed', error: String(e && e.message) }; } })(); })()`;
}

/**
 * Whether a worker runs its script (Node sets process.argv[1] to it just before): one not
 * announced online (started before the probe, or by another thread) may still be starting, and
 * an evaluation is served even then, inside its start (a slow preload of its own), where the
 * probe's start would break it. A pure read: safe at any point of its start.
 */
export function runningExpression(script: string): string {
  return `(() => { try { return process.argv[1] === ${JSON.stringify(script === '' ? '[worker eval]' : script)}; } catch { return false; } })()`;
}

/** A worker not known to be up is asked whether it is this often, ms, and for this long at most. */
const UP_CHECK_MS = 250;
const UP_WAIT_MS = 10_000;

/** Workers announced online before NodeWorker listed them, or listed before they were online: kept this many at most. */
const MAX_WAITING = 256;
/**
 * A worker listed while NodeWorker was being enabled may have started after the probe, with
 * its announcement still on its way: this long for that to come, before it is taken as one
 * that was running before.
 */
const ANNOUNCE_WAIT_MS = 250;
/**
 * A worker that ends during the evaluation answers it with an error, and its session ends a
 * few ms later: a failure whose worker has not ended after this long is one.
 */
const ENDED_WAIT_MS = 1000;
/**
 * A worker listed and not announced by this loop's thread after this long was started by
 * another thread (the announcement is posted at `new Worker()`, before the worker's thread
 * exists). Its loop follows it if its probe was there when it started it, and says so on
 * CLAIMS_CHANNEL; if not (a worker's workers started as it starts, before the probe comes into
 * it, under attach), the main loop's follows it now, once it runs its script.
 */
const UNANNOUNCED_WAIT_MS = 1000;
/**
 * Worker loops' followers say here each worker they will follow, so that the main loop's does
 * not try it too (and, where the probe cannot start, tell of it twice). Anyone in the process
 * can post here: a false claim leaves a worker to the loop that started it.
 */
const CLAIMS_CHANNEL = 'loopscope-probe-follow';

export class WorkerFollower {
  /** Listed by NodeWorker, waiting to be online. */
  private readonly listed = new Map<number, WorkerTarget>();
  /** Online, waiting to be listed. */
  private readonly online = new Set<number>();
  /** Started since the probe came (announced by the loop's thread). */
  private readonly created = new Set<number>();
  /** Followed by other loops (the main loop's follower hears their claims). */
  private readonly claimed = new Set<number>();
  private readonly claims = new BroadcastChannel(CLAIMS_CHANNEL);
  private enabled = false;

  constructor(private readonly workers: NodeWorkers, private readonly o: FollowOptions) {
    (this.claims as { unref?: () => void }).unref?.();
    if (o.followUnannounced) {
      this.claims.onmessage = guard((m: unknown) => {
        const threadId = (m as { data?: { claimed?: unknown } }).data?.claimed;
        if (!Number.isInteger(threadId)) return;
        this.claimed.add(threadId as number);
        if (this.claimed.size > MAX_WAITING) this.claimed.delete(this.claimed.values().next().value!);
      });
    }
  }

  /** NodeWorker has listed its workers: those listed so far were running before. */
  markEnabled(): void {
    this.enabled = true;
  }

  /** A worker NodeWorker lists. */
  listedWorker(w: WorkerTarget): void {
    if (w.threadId === this.o.ownThreadId || w.name === this.o.probeFile) return this.workers.detach(w.sessionId);
    if (this.online.delete(w.threadId)) return this.inject(w);
    this.listed.set(w.threadId, w);
    if (this.listed.size > MAX_WAITING) this.drop(this.listed.keys().next().value!);
    if (!this.enabled && this.o.workersBefore) {
      setTimeout(guard(() => {
        if (this.listed.get(w.threadId) !== w || this.created.has(w.threadId)) return;
        this.listed.delete(w.threadId);
        this.injectOnceUp(w);
      }), ANNOUNCE_WAIT_MS).unref();
    } else {
      setTimeout(guard(() => {
        if (this.listed.get(w.threadId) !== w || this.created.has(w.threadId)) return;
        if (this.o.followUnannounced && !this.claimed.has(w.threadId)) {
          this.listed.delete(w.threadId);
          this.injectOnceUp(w);
        } else this.drop(w.threadId);
      }), UNANNOUNCED_WAIT_MS).unref();
    }
  }

  /** The loop's thread started this worker: it is followed once it is online. */
  createdWorker(threadId: number): void {
    if (!this.o.followUnannounced) this.claims.postMessage({ claimed: threadId });
    this.created.add(threadId);
    if (this.created.size > MAX_WAITING) this.created.delete(this.created.values().next().value!);
  }

  /** The loop's thread heard this worker say 'online'. */
  onlineWorker(threadId: number): void {
    const w = this.listed.get(threadId);
    if (w) {
      this.listed.delete(threadId);
      return this.inject(w);
    }
    this.online.add(threadId);
    if (this.online.size > MAX_WAITING) this.online.delete(this.online.values().next().value!);
  }

  /** A worker that ended before it was followed, or another loop's. */
  private drop(threadId: number): void {
    const w = this.listed.get(threadId);
    this.listed.delete(threadId);
    if (w) this.workers.detach(w.sessionId);
  }

  /** Brings the probe in once the worker runs its script; one that ends meanwhile is let go. */
  private injectOnceUp(w: WorkerTarget, waitedMs = 0): void {
    this.workers.send(w.sessionId, 'Runtime.evaluate', { expression: runningExpression(w.script), returnByValue: true, silent: true }, guard((err, result) => {
      if (err) return this.workers.detach(w.sessionId);
      if ((result as { result?: { value?: unknown } } | undefined)?.result?.value === true) return this.inject(w);
      if (waitedMs >= UP_WAIT_MS) {
        this.workers.detach(w.sessionId);
        return this.o.unfollowed({ threadId: w.threadId, name: w.name, cause: 'inspector', reason: `it did not show it runs its script (process.argv[1]) within ${UP_WAIT_MS / 1000} s of being listed` });
      }
      setTimeout(guard(() => this.injectOnceUp(w, waitedMs + UP_CHECK_MS)), UP_CHECK_MS).unref();
    }));
  }

  private inject(w: WorkerTarget): void {
    const expression = injectWorkerExpression(this.o.probeFile, { socketPath: this.o.socketPath, token: this.o.token, config: this.o.config(), threadName: w.name });
    this.workers.send(w.sessionId, 'Runtime.evaluate', { expression, includeCommandLineAPI: true, returnByValue: true, awaitPromise: true, silent: true }, guard((err, result) => {
      const outcome = followOutcome(err, result);
      if (outcome.followed) return this.workers.detach(w.sessionId);
      const tell = (): void => {
        this.workers.detach(w.sessionId);
        this.o.unfollowed({ threadId: w.threadId, name: w.name, cause: outcome.cause, reason: outcome.reason });
      };
      if (!outcome.ifStillRunning) return tell();
      // Our session stays until then: its end is how the worker's end shows.
      this.workers.ifRunningAfter(w.sessionId, ENDED_WAIT_MS, guard(tell));
    }));
  }
}
