// A directory only this user can enter, for loopscope's sockets.

import { mkdtempSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateDir {
  readonly path: string;
  remove(): void;
}

export function createPrivateDir(prefix = 'loopscope-'): PrivateDir {
  // mkdtemp creates the directory 0700; check it, since a hostile umask cannot widen it but
  // a strange filesystem might.
  const path = mkdtempSync(join(tmpdir(), prefix));
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

/** Where a probe server listens: a socket in the private directory, or a named pipe on Windows. */
export function socketAddress(dir: PrivateDir, name: string): string {
  if (process.platform === 'win32') return `\\\\.\\pipe\\${dir.path.replace(/[^a-zA-Z0-9]/g, '-')}-${name}`;
  return join(dir.path, `${name}.sock`);
}
