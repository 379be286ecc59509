// "Open in the editor" for a stack frame. The frame's file name comes from the target process,
// so it is untrusted: only an existing source file is opened, only by an editor command
// (never the system's opener, which would run an executable or a .desktop file), and without
// a shell. The editor is $LOOPSCOPE_EDITOR (a command with {file}, {line} and {column}), or VS
// Code's `code --goto` when it is on the PATH.

import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter, extname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx', '.json', '.coffee', '.vue', '.svelte']);

/** The local file a frame's url names, if it names one (a path, or a file: URL). */
export function frameFile(url: string): string | undefined {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return undefined;
    }
  }
  return isAbsolute(url) ? url : undefined;
}

/** The editor's argv for a file and position, from a template such as "code --goto {file}:{line}:{column}". */
export function editorCommand(template: string, file: string, line: number, column: number): string[] {
  const words = template.trim().split(/\s+/).filter(Boolean);
  return words.map((w) => w.replaceAll('{file}', file).replaceAll('{line}', String(line)).replaceAll('{column}', String(column)));
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    for (const ext of process.platform === 'win32' ? ['.cmd', '.exe'] : ['']) {
      try {
        if (statSync(join(dir, command + ext)).isFile()) return true;
      } catch {
        // not in this folder
      }
    }
  }
  return false;
}

export async function openInEditor(url: string, line: number, column: number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = frameFile(url);
  if (!file) throw new Error(`${url} is not a file on this machine (Node's own code, or an eval): copy the location instead`);
  if (!SOURCE_EXTENSIONS.has(extname(file).toLowerCase())) throw new Error(`${file} does not look like a source file: loopscope opens only source files`);
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch {
    throw new Error(`${file} is not on this machine (the process may run in a container or elsewhere): copy the location instead`);
  }
  const template = env['LOOPSCOPE_EDITOR'] ?? (onPath('code', env) ? 'code --goto {file}:{line}:{column}' : undefined);
  if (!template) throw new Error('no editor found: set LOOPSCOPE_EDITOR to a command, e.g. "code --goto {file}:{line}:{column}", or copy the location instead');
  const [command, ...args] = editorCommand(template, file, line, column);
  if (!command) throw new Error('LOOPSCOPE_EDITOR is empty: set it to a command, e.g. "code --goto {file}:{line}:{column}"');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, shell: false });
    child.once('error', (err) => reject(new Error(`cannot start the editor "${command}": ${err.message}`)));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
