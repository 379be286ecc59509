// The Node version of an executable, by running `<executable> --version`, once per file.

import { execFile } from 'node:child_process';
import { ENV } from '../../probe/constants';
import { parseNodeVersion, type NodeVersion } from './node-args';

const cache = new Map<string, Promise<NodeVersion | undefined>>();
const VERSION_TIMEOUT_MS = 3000;

/** Our environment without what would change how that Node starts (NODE_OPTIONS, ours). */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NODE_OPTIONS'];
  for (const key of Object.values(ENV)) delete env[key];
  return env;
}

/**
 * `file` is what to run (on Linux /proc/<pid>/exe, which still works when the file on disk
 * was replaced by an upgrade); `key` names the executable for the cache.
 */
export function readNodeVersion(file: string, key: string): Promise<NodeVersion | undefined> {
  let pending = cache.get(key);
  if (!pending) {
    pending = new Promise((resolve) => {
      execFile(file, ['--version'], { timeout: VERSION_TIMEOUT_MS, env: cleanEnvironment(), windowsHide: true }, (err, stdout) => {
        resolve(err ? undefined : parseNodeVersion(String(stdout)));
      });
    });
    cache.set(key, pending);
  }
  return pending;
}
