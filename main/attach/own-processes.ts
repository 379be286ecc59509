// loopscope's own processes (a `serve`, a `run`, the closer an attach leaves behind, `npm
// start`'s launcher) are not programs to attach to: the Start screen leaves them out. Pure.

import { basename, isAbsolute, resolve } from 'node:path';
import { nodeOptionsOfArgv } from './node-args';

/** The scripts loopscope runs as, wherever it is installed (`npx loopscope` runs `.bin/loopscope`). */
const ENTRY_NAMES = new Set(['loopscope', 'loopscope.js']);
/** Node options whose value is the program: there is no script. */
const EVAL = new Set(['-e', '--eval', '-p', '--print']);

/** The script a `node [options] <script> …` command line runs; undefined for `node -e` and the like. */
export function scriptOf(argv: readonly string[]): string | undefined {
  const options = nodeOptionsOfArgv(argv);
  if (EVAL.has(options[options.length - 1] ?? '')) return undefined;
  const script = argv[1 + options.length];
  return script === undefined || script === '--' || script.startsWith('-') ? undefined : script;
}

/**
 * Whether `argv` (run in `cwd`) is loopscope itself: its command-line entry by name, or one of
 * `entries`, this installation's entry files (absolute paths).
 */
export function isLoopscopeCommand(argv: readonly string[], cwd: string | null, entries: readonly string[]): boolean {
  const script = scriptOf(argv);
  if (script === undefined) return false;
  if (ENTRY_NAMES.has(basename(script))) return true;
  const full = isAbsolute(script) ? script : cwd === null ? undefined : resolve(cwd, script);
  return full !== undefined && entries.includes(full);
}
