// `loopscope export <file> --format chrome-trace -o <out.json>`: a recording as a trace that
// Perfetto (ui.perfetto.dev) and chrome://tracing open. Streams: memory stays flat however
// large the recording.

import { closeSync, rmSync, writeSync } from 'node:fs';
import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { PROBE_VERSION } from '../../probe/constants';
import { ChromeTraceBuilder, traceText, type TraceClock, type TraceEvent } from '../reports/chrome-trace';
import { fsReason, RecordingError, RECORDING_EXIT } from '../recording/errors';
import { formatBytes } from '../common/format';
import { openPrivateOutput } from '../recording/private-output';
import { RecordingReader } from '../recording/recording-reader';
import { RecordingPlayer } from '../replay/recording-player';

const FORMATS = ['chrome-trace'] as const;

const OPTIONS: readonly OptionSpec[] = [
  { name: 'format', kind: 'string', valueName: 'format', choices: FORMATS, description: 'what to write: chrome-trace (the default), for Perfetto and chrome://tracing' },
  { name: 'output', short: 'o', kind: 'string', valueName: 'file', description: 'where to write it (- for stdout)' },
  { name: 'help', short: 'h', kind: 'flag', description: 'show this help' },
];

const HELP = `Usage: loopscope export <file> [--format chrome-trace] -o <out.json>

Writes a recording as a Chrome trace (JSON), which opens in Perfetto (ui.perfetto.dev) and in
chrome://tracing: counters for loop lag, utilization and memory; slices for GC pauses and
blocked loops (with the stack in the slice's args); in trace-mode recordings, every callback
as a slice named by its resource type, with its async id in the args. Every loop recorded
(worker threads, child processes) has tracks of its own.

Options:
${'{options}'}

Example:
  loopscope export s.rec --format chrome-trace -o trace.json
`;

/** Buffered output: one write per megabyte, not one per event. */
class Output {
  private parts: string[] = [];
  private size = 0;
  written = 0;

  constructor(private readonly fd: number) {}

  add(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1024 * 1024) this.flush();
  }

  flush(): void {
    const bytes = Buffer.from(this.parts.join(''));
    let at = 0;
    while (at < bytes.length) at += writeSync(this.fd, bytes, at);
    this.written += bytes.length;
    this.parts = [];
    this.size = 0;
  }
}

export async function exportCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, OPTIONS);
  if (parsed.options['help']) {
    process.stdout.write(HELP.replace('{options}', describeOptions(OPTIONS)));
    return 0;
  }
  const [file, extra] = parsed.positionals;
  if (!file) throw new UsageError('no recording given. Usage: loopscope export <file> --format chrome-trace -o <out.json>');
  if (extra) throw new UsageError(`unexpected argument "${extra}"`);
  const out = parsed.options['output'] as string | undefined;
  if (!out) throw new UsageError('no output file: add -o <out.json> (or -o - for stdout)');
  const reader = RecordingReader.open(file);
  let fd: number;
  try {
    fd = out === '-' ? 1 : openPrivateOutput(out);
  } catch (err) {
    reader.close();
    throw new RecordingError(`cannot write ${out}: ${fsReason(err)}`, RECORDING_EXIT.cannotWrite);
  }
  try {
    const { events, warnings } = writeTrace(reader, new Output(fd), file);
    for (const w of warnings) process.stderr.write(`loopscope export: warning: ${w}\n`);
    if (out !== '-') process.stderr.write(`loopscope export: wrote ${out} (${events.count} events, ${formatBytes(events.bytes)}): open it in ui.perfetto.dev or chrome://tracing\n`);
  } catch (err) {
    if (out !== '-') rmSync(out, { force: true });
    throw err instanceof RecordingError ? err : new RecordingError(`cannot write ${out}: ${fsReason(err)}`, RECORDING_EXIT.cannotWrite);
  } finally {
    reader.close();
    if (out !== '-') closeSync(fd);
  }
  return 0;
}

function writeTrace(reader: RecordingReader, output: Output, file: string): { events: { count: number; bytes: number }; warnings: readonly string[] } {
  // One builder per loop (its own tracks), all on the first loop's clock.
  const clock: TraceClock = { originMs: undefined };
  const builders: ChromeTraceBuilder[] = [];
  let count = 0;
  const emit = (events: readonly TraceEvent[]): void => {
    for (const e of events) output.add(`${count++ === 0 ? '' : ',\n'}${JSON.stringify(e)}`);
  };
  const other = { recordedBy: `loopscope ${PROBE_VERSION}`, recording: traceText(file), startedAt: new Date(reader.header.startedAtMs).toISOString() };
  // traceEvents first, and no displayTimeUnit: see chrome-trace.ts for what Perfetto needs.
  output.add('{"traceEvents":[\n');
  // The export builds its own slices from the events: the feed need not keep a trace model.
  const player = new RecordingPlayer(reader, { trace: false, recentSamples: 0, refuseOverLimit: true });
  player.onLoop((loop, feed) => {
    const builder = new ChromeTraceBuilder(clock, loop);
    builders.push(builder);
    feed.onMessage((m) => emit(builder.add(m)));
  });
  player.advanceTo(Infinity);
  for (const b of builders) emit(b.finish());
  output.add(`\n],"otherData":${JSON.stringify(other)}}\n`);
  output.flush();
  return { events: { count, bytes: output.written }, warnings: player.warnings };
}
