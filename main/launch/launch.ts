// Starts a command with the probe preloaded through NODE_OPTIONS, keeping the command's own
// NODE_OPTIONS (the probe restores them as soon as it has loaded).

import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { ENV } from '../../probe/constants';
import type { ProbeConfig } from '../../probe/wire';

export interface LaunchOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly probeFile: string;
  readonly socketPath: string;
  readonly token: string;
  readonly config: ProbeConfig;
  readonly stdio: StdioOptions;
  readonly env?: NodeJS.ProcessEnv;
  /** The Node processes the command starts load the probe too (the token must then admit them). */
  readonly follow?: boolean;
  readonly cwd?: string;
}

/** NODE_OPTIONS quoting: double quotes, with backslash escapes for `"` and `\`. */
export function quoteNodeOption(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export function probeEnvironment(base: NodeJS.ProcessEnv, o: Omit<LaunchOptions, 'command' | 'args' | 'stdio' | 'env' | 'cwd'>): NodeJS.ProcessEnv {
  const original = base['NODE_OPTIONS'] ?? '';
  return {
    ...base,
    NODE_OPTIONS: `--require ${quoteNodeOption(o.probeFile)}${original ? ` ${original}` : ''}`,
    [ENV.originalNodeOptions]: original,
    [ENV.socket]: o.socketPath,
    [ENV.token]: o.token,
    [ENV.mode]: o.config.mode,
    [ENV.promises]: o.config.promises ? '1' : '0',
    [ENV.intervalMs]: String(o.config.intervalMs),
    [ENV.blockThresholdMs]: String(o.config.blockThresholdMs),
    [ENV.profile]: o.config.profile === false ? '0' : '1',
    ...(o.config.sampleIntervalMs === undefined ? {} : { [ENV.sampleIntervalMs]: String(o.config.sampleIntervalMs) }),
    ...(o.follow ? { [ENV.follow]: '1' } : {}),
  };
}

export function launch(o: LaunchOptions): ChildProcess {
  return spawn(o.command, o.args, {
    env: probeEnvironment(o.env ?? process.env, o),
    stdio: o.stdio,
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
  });
}
