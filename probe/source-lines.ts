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
 * The lines of the function starting at `line`:`column` (1-based) of `text`, each with its
 * code from that position on. The body is taken to end where the braces opened after the
 * start close (strings and comments are not told apart: a heuristic, bounded).
 */
function bodyLines(text: string, line: number, column: number): { line: number; code: string }[] {
  if (line < 1) return [];
  const lines = text.split('\n');
  const out: { line: number; code: string }[] = [];
  let depth = 0;
  let opened = false;
  for (let i = line - 1; i < lines.length && i < line - 1 + MAX_BODY_LINES; i++) {
    const code = lines[i]!.slice(i === line - 1 ? Math.max(0, column - 1) : 0);
    out.push({ line: i + 1, code });
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
  return out;
}

/** The only line calling `callee` in the function starting at `line`:`column` of `text`, or undefined. */
export function onlyCallLine(text: string, line: number, column: number, callee: string): number | undefined {
  if (!/^[\w$]+$/.test(callee)) return undefined;
  const call = new RegExp(`(^|[^\\w$])${escape(callee)}\\s*\\(`);
  const found = bodyLines(text, line, column).filter((l) => call.test(l.code));
  return found.length === 1 ? found[0]!.line : undefined;
}

/** The first and last line of the function starting at `line`:`column` of `text`. */
export function bodyRange(text: string, line: number, column: number): { from: number; to: number } | undefined {
  const lines = bodyLines(text, line, column);
  return lines.length === 0 ? undefined : { from: lines[0]!.line, to: lines[lines.length - 1]!.line };
}

export class SourceLines {
  private readonly kept = new Map<string, unknown>();

  /** For the blame: the line of `frame`'s function that calls `callee`, when the source says so. */
  callLine = (frame: ProfileFrame, callee: string): number | undefined =>
    this.remember(`${frame.url}:${frame.lineNumber}:${frame.columnNumber}:${callee}`, frame, (text) => onlyCallLine(text, frame.lineNumber, frame.columnNumber, callee));

  /**
   * For the profile's line ticks: the lines of `frame`'s function. V8 counts the lines of code
   * inlined into a function as its own (a performance.now() inlined into a loop shows
   * perf_hooks' lines).
   */
  body = (frame: ProfileFrame): { from: number; to: number } | undefined =>
    this.remember(`${frame.url}:${frame.lineNumber}:${frame.columnNumber}`, frame, (text) => bodyRange(text, frame.lineNumber, frame.columnNumber));

  private remember<T>(key: string, frame: ProfileFrame, find: (text: string) => T | undefined): T | undefined {
    if (!isAbsolute(frame.url)) return undefined;
    if (this.kept.has(key)) return this.kept.get(key) as T | undefined;
    const text = readSmallFile(frame.url);
    const found = text === undefined ? undefined : find(text);
    if (this.kept.size >= MAX_KEPT) this.kept.clear();
    this.kept.set(key, found);
    return found;
  }
}
