// loopscope's side of waking a dormant probe (probe/wake.ts): check that the socket is this
// user's and private, send the one request, read the one answer, bounded in size and time.

import { lstatSync } from 'node:fs';
import { createConnection } from 'node:net';
import { performance } from 'node:perf_hooks';
import { dirname } from 'node:path';
import { encodeWakeRequest, parseWakeAnswer, WAKE_MAX_BYTES, type WakeAnswer, type WakeRequest } from '../../probe/wake';
import { AttachError } from './errors';

/** Why the socket, or its directory, is not private to this user; undefined when it is. */
export function notPrivate(address: string): string | undefined {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  try {
    const dir = lstatSync(dirname(address));
    if (!dir.isDirectory()) return `${dirname(address)} is not a directory`;
    if ((uid !== undefined && dir.uid !== uid) || (dir.mode & 0o077) !== 0) return `${dirname(address)} is not private to you (mode ${(dir.mode & 0o777).toString(8)}, uid ${dir.uid})`;
    const socket = lstatSync(address);
    if (!socket.isSocket() || (uid !== undefined && socket.uid !== uid)) return `${address} is not your socket`;
  } catch (err) {
    return `${address}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  return undefined;
}

/** Waits before each try again, ms: the dormant side cuts off a connection it has no slot for (its slots free within 2 s). */
const RETRY_AFTER_MS = [50, 100, 200, 400];

/** A connection cut off before any answer: the dormant side had no slot for it. Worth another try. */
class Unanswered extends Error {}

/**
 * Sends `request` to the dormant probe at `address`; resolves with its answer. The dormant
 * probe serves a few connections at once and cuts off more: a request cut off unanswered is
 * sent again, until `timeoutMs` is up.
 */
export async function wakeProbe(address: string, request: WakeRequest, timeoutMs: number): Promise<WakeAnswer> {
  const refusal = notPrivate(address);
  if (refusal) throw new AttachError('probe-failed', `not waking the dormant probe: ${refusal}.`);
  const deadline = performance.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    try {
      return await exchange(address, request, Math.max(1, deadline - performance.now()));
    } catch (err) {
      const waitMs = RETRY_AFTER_MS[Math.min(tries - 1, RETRY_AFTER_MS.length - 1)]!;
      if (!(err instanceof Unanswered) || performance.now() + waitMs >= deadline) {
        const why = err instanceof Unanswered ? `${err.message}${tries > 1 ? ` (${tries} tries)` : ''}` : (err as Error).message;
        throw new AttachError('probe-failed', `cannot wake the dormant probe at ${address}: ${why}.`);
      }
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** One connection: the request out, the one answer back. */
function exchange(address: string, request: WakeRequest, timeoutMs: number): Promise<WakeAnswer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(address);
    let answer = '';
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${Math.round(timeoutMs)} ms`)));
    socket.once('connect', () => socket.write(encodeWakeRequest(request)));
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const end = answer.indexOf('\n');
      if (end >= 0) {
        socket.destroy();
        resolve(parseWakeAnswer(answer.slice(0, end)));
      } else if (answer.length > WAKE_MAX_BYTES) fail(new Error('its answer is too long'));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const cutOff = answer === '' && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      fail(cutOff ? new Unanswered('it closed the connection without an answer') : new Error(err.code ?? err.message));
    });
    socket.on('close', () => fail(answer === '' ? new Unanswered('it closed the connection without an answer') : new Error('it closed the connection in the middle of its answer')));
  });
}
