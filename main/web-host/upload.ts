// Opening a recording from the browser: the page cannot tell loopscope where a picked or
// dropped file is, so it sends the bytes (POST <token>/upload?name=…), which are written to
// the uploads folder and opened from there. The file's header is checked before anything is
// written; a file that is not a recording, or that cannot be opened, is not kept; and old
// uploads are removed (they are copies: the user has the files they picked).

import { createWriteStream, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FILE_HEADER_BYTES } from '../recording/format';
import { readHeader } from '../recording/recording-reader';

/** Larger than any recording a session of hours makes, small enough to stop a runaway. */
export const MAX_UPLOAD_BYTES = 16 * 1024 ** 3;
/** Uploads kept: the newest, and none older than a week. */
export const KEPT_UPLOADS = 20;
const UPLOAD_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** A name safe to put in a folder of ours, from whatever the browser said the file was called. */
export function uploadName(raw: string | null, atMs: number): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const safe = base.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '').slice(0, 100) || 'recording.lsrec';
  return `${atMs}-${safe}`;
}

/** Removes old uploads (by the time in their names), leaving room for one more. */
export function pruneUploads(dir: string, nowMs: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const uploads = names.flatMap((name) => {
    const at = Number(/^(\d+)-/.exec(name)?.[1]);
    return at ? [{ name, at }] : [];
  }).sort((a, b) => b.at - a.at);
  uploads.forEach(({ name, at }, i) => {
    if (i < KEPT_UPLOADS - 1 && nowMs - at <= UPLOAD_MAX_AGE_MS) return;
    const path = join(dir, name);
    try {
      if (lstatSync(path).isFile()) rmSync(path, { force: true });
    } catch {
      // Removed meanwhile.
    }
  });
}

const reply = (res: ServerResponse, status: number, body: object): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/** The body's first `bytes` bytes (more if they came in one chunk; fewer if the body is shorter), leaving the rest unread. */
function readHead(req: IncomingMessage, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const done = (): void => {
      req.off('data', onData).off('end', done).off('close', done).off('error', reject);
      req.pause();
      resolve(Buffer.concat(parts));
    };
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= bytes) done();
    };
    // 'close' without 'end': the browser went away; what came is checked, and refused.
    req.on('data', onData).once('end', done).once('close', done).once('error', reject);
  });
}

export async function receiveUpload(req: IncomingMessage, res: ServerResponse, dir: string, open: (path: string) => Promise<string>): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) {
    req.resume();
    return reply(res, 413, { error: `the file is larger than ${MAX_UPLOAD_BYTES / 1024 ** 3} GiB: open it with loopscope replay or summary instead` });
  }
  const name = new URL(req.url ?? '/', 'http://host').searchParams.get('name');
  let head: Buffer;
  try {
    head = await readHead(req, FILE_HEADER_BYTES);
  } catch (err) {
    return reply(res, 500, { error: `the upload failed: ${(err as Error).message}` });
  }
  const header = readHeader(name ?? 'the file', head);
  if (!header.ok) {
    req.resume();
    return reply(res, 400, { error: header.reason });
  }
  const now = Date.now();
  const path = join(dir, uploadName(name, now));
  let received = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      done(received > MAX_UPLOAD_BYTES ? new Error('the upload is too large') : null, chunk);
    },
  });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    pruneUploads(dir, now);
    await pipeline(async function* body() {
      yield head;
      if (!req.readableEnded) yield* req;
    }, limit, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    rmSync(path, { force: true });
    return reply(res, 500, { error: `the upload failed: ${(err as Error).message}` });
  }
  try {
    reply(res, 200, { id: await open(path) });
  } catch (err) {
    rmSync(path, { force: true });
    reply(res, 400, { error: (err as Error).message.replace(path, name ?? 'the file') });
  }
}
