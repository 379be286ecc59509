// A launch command as a user types it in a shell: `VAR=value` words first set variables for
// the program, the rest is the command. Pure.

import { splitCommand } from './split-command';

export interface LaunchLine {
  readonly env: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

export function parseLaunchLine(line: string): LaunchLine {
  const words = splitCommand(line);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length; i++) {
    const m = ASSIGNMENT.exec(words[i]!);
    if (!m) break;
    env[m[1]!] = m[2]!;
  }
  return { env, argv: words.slice(i) };
}
