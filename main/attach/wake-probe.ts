// loopscope's side of waking a dormant probe (probe/wake.ts): check that the socket is this
// user's and private, send the one request, read the one answer, bounded in size and time.

import { lstatSync } from 'node:fs';
import { createConnection } from 'node:net';
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

/** Sends `request` to the dormant probe at `address`; resolves with its answer. */
export function wakeProbe(address: string, request: WakeRequest, timeoutMs: number): Promise<WakeAnswer> {
  const refusal = notPrivate(address);
  if (refusal) return Promise.reject(new AttachError('probe-failed', `not waking the dormant probe: ${refusal}.`));
  return new Promise((resolve, reject) => {
    const socket = createConnection(address);
    let answer = '';
    const fail = (why: string): void => {
      socket.destroy();
      reject(new AttachError('probe-failed', `cannot wake the dormant probe at ${address}: ${why}.`));
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => socket.write(encodeWakeRequest(request)));
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const end = answer.indexOf('\n');
      if (end >= 0) {
        socket.destroy();
        resolve(parseWakeAnswer(answer.slice(0, end)));
      } else if (answer.length > WAKE_MAX_BYTES) fail('its answer is too long');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.on('close', () => fail('it closed the connection without an answer'));
  });
}
