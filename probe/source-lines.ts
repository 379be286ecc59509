// The line of a call, from the source text, for a blocked report whose samples show a user
// function calling into Node's code or a native (a Buffer's toString, structuredClone on
// Node 22 and later): V8 keeps no line for a frame that is not the sample's leaf, and the
// watchdog's interrupt comes only after such a call returns. If exactly one line of the
// function's body calls the callee by name, that is the line. Runs on the probe's worker
// (never on the target's main thread), reads only regular files of bounded size, and keeps
// what it found.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { ProfileFrame } from './wire';

const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** A function body longer than this is not searched to its end. */
const MAX_BODY_LINES = 400;
const MAX_KEPT = 1024;

function readSmallFile(path: string): string | undefined {
  let fd: number | undefined;
  try {
    // Non-blocking: a FIFO at that path must not hang the worker.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return undefined;
    const buffer = Buffer.alloc(stat.size);
    let at = 0;
    while (at < stat.size) {
      const n = readSync(fd, buffer, at, stat.size - at, at);
      if (n === 0) break;
      at += n;
    }
    return buffer.toString('utf8', 0, at);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The only line calling `callee` in the function starting at `line`:`column` (1-based) of
 * `text`, or undefined. The body is taken to end where the braces opened after the start close.
 */
export function onlyCallLine(text: string, line: number, column: number, callee: string): number | undefined {
  if (!/^[\w$]+$/.test(callee) || line < 1) return undefined;
  const lines = text.split('\n');
  const call = new RegExp(`(^|[^\\w$])${escape(callee)}\\s*\\(`);
  const found: number[] = [];
  let depth = 0;
  let opened = false;
  for (let i = line - 1; i < lines.length && i < line - 1 + MAX_BODY_LINES; i++) {
    const from = i === line - 1 ? Math.max(0, column - 1) : 0;
    const code = lines[i]!.slice(from);
    if (call.test(code)) found.push(i + 1);
    for (const c of code) {
      if (c === '{') {
        depth++;
        opened = true;
      } else if (c === '}') depth--;
    }
    // A body ends where its braces close; an arrow function without braces ends on its line;
    // a signature longer than a few lines is not followed.
    if (opened ? depth <= 0 : /=>\s*[^\s{]/.test(code) || i - (line - 1) >= 5) break;
  }
  return found.length === 1 ? found[0] : undefined;
}

export class SourceLines {
  private readonly kept = new Map<string, number | undefined>();

  /** For the blame: the line of `frame`'s function that calls `callee`, when the source says so. */
  callLine = (frame: ProfileFrame, callee: string): number | undefined => {
    if (!isAbsolute(frame.url)) return undefined;
    const key = `${frame.url}:${frame.lineNumber}:${frame.columnNumber}:${callee}`;
    if (this.kept.has(key)) return this.kept.get(key);
    const text = readSmallFile(frame.url);
    const line = text === undefined ? undefined : onlyCallLine(text, frame.lineNumber, frame.columnNumber, callee);
    if (this.kept.size >= MAX_KEPT) this.kept.clear();
    this.kept.set(key, line);
    return line;
  };
}
