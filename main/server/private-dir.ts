// A directory only this user can enter, for loopscope's sockets (and the page that hands the
// web token to a browser). Its name carries the pid of the loopscope that made it, so that one
// left behind by a loopscope that was killed (kill -9 runs no cleanup) can be told from one in
// use, and is removed by the next loopscope of the same user.

import { lstatSync, mkdtempSync, readdirSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasExited } from '../system/process-exited';

export interface PrivateDir {
  readonly path: string;
  remove(): void;
}

const PREFIX = 'loopscope-';
/** `loopscope-<pid>-` and mkdtemp's six characters. */
const NAME = /^loopscope-(\d+)-[A-Za-z0-9]{6}$/;

let staleRemoved = false;

export function createPrivateDir(): PrivateDir {
  if (!staleRemoved) {
    staleRemoved = true;
    removeStaleDirs(tmpdir());
  }
  // mkdtemp creates the directory 0700; check it, since a hostile umask cannot widen it but
  // a strange filesystem might.
  const path = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  chmodSync(path, 0o700);
  const mode = statSync(path).mode & 0o777;
  if (process.platform !== 'win32' && mode !== 0o700) {
    rmSync(path, { recursive: true, force: true });
    throw new Error(`cannot make a private directory for loopscope's socket: ${path} has mode ${mode.toString(8)}`);
  }
  return {
    path,
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/**
 * Removes the private directories in `parent` that this user's loopscopes left behind: named
 * for a process that is gone. Never another user's, never a symbolic link, never one whose
 * process runs (a pid reused since only keeps a stale one a while longer). Returns their paths.
 */
export function removeStaleDirs(parent: string): string[] {
  const uid = process.getuid?.();
  if (uid === undefined) return []; // Windows: each user has a temporary folder of their own
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(NAME.exec(name)?.[1]);
    if (!pid || pid === process.pid || !hasExited(pid)) continue;
    const path = join(parent, name);
    try {
      const stat = lstatSync(path);
      if (!stat.isDirectory() || stat.uid !== uid) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Gone meanwhile (another loopscope removed it), or not ours to remove.
    }
  }
  return removed;
}

/** Where a probe server listens: a socket in the private directory, or a named pipe on Windows. */
export function socketAddress(dir: PrivateDir, name: string): string {
  if (process.platform === 'win32') return `\\\\.\\pipe\\${dir.path.replace(/[^a-zA-Z0-9]/g, '-')}-${name}`;
  return join(dir.path, `${name}.sock`);
}
