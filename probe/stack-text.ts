// Reads V8's text stack format ("    at fn (file:line:col)"), which is what Node's own
// formatter produces, source-mapped when the target runs with --enable-source-maps. Pure.

import { clipName, type StackFrame } from './wire';

const WITH_NAME = /^\s*at (?:async )?(.*?) \((.*):(\d+):(\d+)\)$/;
const BARE = /^\s*at (?:async )?(.*):(\d+):(\d+)$/;

export function parseStackText(text: string, skipUrl?: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of text.split('\n')) {
    const named = WITH_NAME.exec(line);
    const bare = named ? undefined : BARE.exec(line);
    const m = named ?? bare;
    if (!m) continue;
    const [functionName, url, lineNumber, columnNumber] = named ? [m[1]!, m[2]!, m[3]!, m[4]!] : ['', m[1]!, m[2]!, m[3]!];
    if (skipUrl !== undefined && url === skipUrl) continue;
    frames.push({ functionName: clipName(functionName), url: clipName(url), lineNumber: Number(lineNumber), columnNumber: Number(columnNumber) });
  }
  return frames;
}
