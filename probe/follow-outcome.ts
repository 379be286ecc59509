// What the evaluation that brings the probe into a worker thread (worker-follow.ts) came to,
// from its inspector reply: the probe started there, or why it did not. Pure.

import type { UnfollowedCause } from './wire';

export type FollowOutcome =
  | { readonly followed: true }
  | {
    readonly followed: false;
    readonly cause: UnfollowedCause;
    readonly reason: string;
    /**
     * The same reply comes when the worker ended during the evaluation (the inspector says
     * "Execution context was destroyed."): only once the worker is known to run on is it a
     * failure. A start that refused said why itself, in a worker that was running.
     */
    readonly ifStillRunning: boolean;
  };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The first line of a text from the worker, an exception's description or a start's error ("TypeError: …", without its stack). */
function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

/**
 * `err` and `result` as NodeWorkers.send gives them for a `Runtime.evaluate` of
 * injectWorkerExpression with returnByValue and awaitPromise: `{ result: { value } }`, or
 * `{ result, exceptionDetails }` when it threw, or an error when the inspector refused it.
 */
export function followOutcome(err: Error | null, result: unknown): FollowOutcome {
  if (err) return { followed: false, cause: 'inspector', reason: err.message || 'the inspector refused the evaluation', ifStillRunning: true };
  const reply = isObject(result) ? result : {};
  const details = reply['exceptionDetails'];
  if (isObject(details)) {
    const exception = isObject(details['exception']) ? details['exception'] : {};
    const description = typeof exception['description'] === 'string' ? firstLine(exception['description']) : '';
    const text = typeof details['text'] === 'string' ? firstLine(details['text']) : '';
    return { followed: false, cause: 'threw', reason: description || text || 'the probe\'s start threw', ifStillRunning: true };
  }
  const value = isObject(reply['result']) ? reply['result']['value'] : undefined;
  const status = isObject(value) ? value['status'] : undefined;
  if (status === 'started' || status === 'already-running') return { followed: true };
  if (status === 'failed' && isObject(value)) {
    const error = typeof value['error'] === 'string' ? firstLine(value['error']) : '';
    return { followed: false, cause: 'refused', reason: error || 'the probe did not say why', ifStillRunning: false };
  }
  // A value of another shape: not our probe's answer (its file replaced by something else?).
  return { followed: false, cause: 'threw', reason: 'the probe\'s start gave no answer', ifStillRunning: true };
}
