// The recent recordings list of the Start screen: files opened or written from the window,
// newest first, kept in a small JSON file in the settings folder. The file is the user's to
// edit or damage: anything unreadable in it is ignored, never an error.

import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { configDir } from './app-paths';
import type { RecentRecording } from './ui-api';

export const MAX_RECENT = 20;

export interface RecentEntry {
  readonly file: string;
  readonly atMs: number;
}

/** The entries in a list file's text; whatever is not a valid entry is left out. */
export function parseRecent(text: string): RecentEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  const out: RecentEntry[] = [];
  for (const e of v) {
    if (typeof e !== 'object' || e === null) continue;
    const { file, atMs } = e as Record<string, unknown>;
    if (typeof file !== 'string' || !isAbsolute(file) || file.length > 4096) continue;
    if (typeof atMs !== 'number' || !Number.isFinite(atMs)) continue;
    out.push({ file, atMs });
  }
  return withRecent(out, []);
}

/** `list` with `added` in front (newest first, each file once, at most MAX_RECENT). */
export function withRecent(list: readonly RecentEntry[], added: readonly RecentEntry[]): RecentEntry[] {
  const seen = new Set<string>();
  const out: RecentEntry[] = [];
  for (const e of [...added, ...list].sort((a, b) => b.atMs - a.atMs)) {
    if (seen.has(e.file)) continue;
    seen.add(e.file);
    out.push(e);
    if (out.length === MAX_RECENT) break;
  }
  return out;
}

function describe(e: RecentEntry): RecentRecording {
  try {
    const s = statSync(e.file);
    if (!s.isFile()) return { ...e, bytes: null, problem: 'not a file any more' };
    return { ...e, bytes: s.size, problem: null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ...e, bytes: null, problem: code === 'ENOENT' ? 'moved or deleted' : `cannot be read (${code ?? 'error'})` };
  }
}

export class RecentRecordings {
  constructor(private readonly path = join(configDir(), 'recent-recordings.json')) {}

  list(): RecentRecording[] {
    return this.load().map(describe);
  }

  add(file: string, atMs = Date.now()): void {
    const list = withRecent(this.load(), [{ file, atMs }]);
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      // Written whole, then renamed: a crash leaves the old list or the new one, never half.
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(list, null, 1), { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch {
      // A settings folder that cannot be written costs the list, not the recording.
    }
  }

  private load(): RecentEntry[] {
    try {
      return parseRecent(readFileSync(this.path, 'utf8'));
    } catch {
      return [];
    }
  }
}
