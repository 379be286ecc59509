// The dormant probe: preloaded into a process (`--require <dist/probe.js>`) that loopscope did
// not start, it listens on a private Unix socket and does nothing else until loopscope asks it
// to start (wake.ts). The listening socket is unref'd: no timer, no thread, no CPU, and it
// never keeps the process alive. Anything wrong with the directory, and it stays silent and
// inactive: nothing is printed, and the program runs as it would without it.

import { createServer, type Socket } from 'node:net';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SOCKET_PATH_BYTES, WAKE_MAX_BYTES, WAKE_TIMEOUT_MS, parseWakeRequest, wakeDirName, wakeSocketName, type WakeAnswer, type WakeRequest } from './wake';

/** Requests served at once; more connections are closed at once. */
const MAX_CONNECTIONS = 4;

/** The directory exists (made 0700 if missing), is a directory and not a link, is this user's, and only this user's. */
function isPrivateDir(path: string, uid: number): boolean {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  const st = lstatSync(path);
  return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0;
}

/** A socket left at our path by a process that had our PID before: removed. Anything else there: not ours to touch. */
function clearStale(path: string): boolean {
  try {
    if (!lstatSync(path).isSocket()) return false;
    unlinkSync(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Reads one request line from a connection, bounded in size and time, and answers it. */
function serve(socket: Socket, wake: (r: WakeRequest) => WakeAnswer): void {
  let buffered = '';
  let answered = false;
  socket.unref();
  socket.setEncoding('utf8');
  socket.setTimeout(WAKE_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => undefined);
  socket.on('data', (chunk: string) => {
    try {
      if (answered) return;
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) {
        if (buffered.length > WAKE_MAX_BYTES) socket.destroy();
        return;
      }
      answered = true;
      const request = end <= WAKE_MAX_BYTES ? parseWakeRequest(buffered.slice(0, end)) : { error: 'the request is too long' };
      const answer: WakeAnswer = 'error' in request ? { status: 'failed', error: request.error } : wake(request);
      socket.end(`${JSON.stringify(answer)}\n`);
    } catch {
      socket.destroy();
    }
  });
}

/**
 * Listens at <tmpdir>/.loopscope-attach-<uid>/<pid>.sock, 0600 in a 0700 directory of this
 * user's, for as long as the process runs. `wake` starts the probe and says how that went.
 */
export function listenDormant(wake: (r: WakeRequest) => WakeAnswer): void {
  if (process.platform === 'win32' || typeof process.geteuid !== 'function') return;
  const uid = process.geteuid();
  const dir = join(tmpdir(), wakeDirName(uid));
  const path = join(dir, wakeSocketName(process.pid));
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES || !isPrivateDir(dir, uid) || !clearStale(path)) return;
  let connections = 0;
  const server = createServer((socket) => {
    if (connections >= MAX_CONNECTIONS) {
      socket.destroy();
      return;
    }
    connections++;
    socket.on('close', () => connections--);
    serve(socket, wake);
  });
  server.on('error', () => server.close());
  // Exclusive: bound here and now, also in a cluster worker, so that the mode is set at once
  // (the directory keeps others out meanwhile).
  server.listen({ path, exclusive: true });
  try {
    chmodSync(path, 0o600);
  } catch {
    server.close();
    return;
  }
  server.unref();
  process.on('exit', () => {
    try {
      if (server.listening) unlinkSync(path);
    } catch {
      // gone already
    }
  });
}
