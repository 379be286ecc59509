// Opening a recording from the browser: the page cannot tell loopscope where a picked or
// dropped file is, so it sends the bytes (POST <token>/upload?name=…), which are written to
// the uploads folder and opened from there. A file that is not a recording is not kept.

import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Larger than any recording a session of hours makes, small enough to stop a runaway. */
export const MAX_UPLOAD_BYTES = 16 * 1024 ** 3;

/** A name safe to put in a folder of ours, from whatever the browser said the file was called. */
export function uploadName(raw: string | null, atMs: number): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const safe = base.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '').slice(0, 100) || 'recording.lsrec';
  return `${atMs}-${safe}`;
}

const reply = (res: ServerResponse, status: number, body: object): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

export async function receiveUpload(req: IncomingMessage, res: ServerResponse, dir: string, open: (path: string) => Promise<string>): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) {
    req.resume();
    return reply(res, 413, { error: `the file is larger than ${MAX_UPLOAD_BYTES / 1024 ** 3} GiB: open it with loopscope replay or summary instead` });
  }
  const name = new URL(req.url ?? '/', 'http://host').searchParams.get('name');
  const path = join(dir, uploadName(name, Date.now()));
  let received = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      done(received > MAX_UPLOAD_BYTES ? new Error('the upload is too large') : null, chunk);
    },
  });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await pipeline(req, limit, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
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
