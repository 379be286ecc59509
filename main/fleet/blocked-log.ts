// A blocked loop as a log record: what went on, where, and for how long, in the words of the
// semantic conventions (code.*, thread.*, process.*), with the whole stack as text in the
// natural form of Node (`    at fn (file:line:column)`). Pure.

import type { BlockedReport, Hello } from '../../probe/wire';
import { formatFrame, userFrames } from '../common/format';
import { loopAttributes, type Attributes } from './fleet-metrics';
import type { LoopIdentity } from './loop-set';

export const BLOCKED_EVENT = 'loopscope.eventloop.blocked';

export interface BlockedRecord {
  readonly eventName: string;
  /** When the block began, ms since the Unix epoch. */
  readonly timestampMs: number;
  readonly body: string;
  readonly attributes: Attributes;
}

function stackText(report: BlockedReport): string {
  return report.stack.map((f) => `    at ${formatFrame(f)}`).join('\n');
}

export function blockedRecord(report: BlockedReport, hello: Hello, identity: LoopIdentity): BlockedRecord {
  const top = userFrames(report.stack)[0];
  const ms = Math.round(report.durationUs / 100) / 10;
  const where = top ? ` in ${formatFrame(top)}` : report.stackError ? ` (no stack: ${report.stackError})` : '';
  return {
    eventName: BLOCKED_EVENT,
    timestampMs: hello.timeOriginMs + report.startUs / 1000,
    body: `event loop blocked for ${ms} ms${where}`,
    attributes: {
      ...loopAttributes(identity),
      'loopscope.blocked.duration': report.durationUs / 1e6,
      'loopscope.blocked.id': report.id,
      ...(top ? {
        'code.function.name': top.functionName || '(anonymous)',
        'code.file.path': top.url,
        'code.line.number': top.lineNumber,
        'code.column.number': top.columnNumber,
      } : {}),
      ...(report.stack.length > 0 ? { 'code.stacktrace': stackText(report) } : {}),
      // How far to trust the stack: from the CPU samples inside the block, or the watchdog's interrupt (and why no samples).
      ...(report.stackSource ? { 'loopscope.blocked.stack_source': report.stackSource } : {}),
      ...(report.unsampled ? { 'loopscope.blocked.unsampled': report.unsampled } : {}),
      ...(report.stackError ? { 'loopscope.blocked.stack_error': report.stackError } : {}),
    },
  };
}
