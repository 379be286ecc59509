// `loopscope export <file> --format chrome-trace|cpuprofile|pprof -o <out>`: a recording as a
// trace that Perfetto (ui.perfetto.dev) and chrome://tracing open, or its CPU samples as a
// profile for Chrome DevTools and speedscope (.cpuprofile) or for go tool pprof, Pyroscope and
// Grafana (pprof). The trace streams: memory stays flat however large the recording; a
// profile holds the samples of its time range, of one loop (--loop: a profile is one thread's).

import { closeSync, fstatSync, lstatSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { PROBE_VERSION } from '../../probe/constants';
import { ChromeTraceBuilder, traceText, type TraceClock, type TraceEvent } from '../reports/chrome-trace';
import { toCpuProfile } from '../reports/cpuprofile';
import { toPprof } from '../reports/pprof';
import { fsReason, RecordingError, RECORDING_EXIT } from '../recording/errors';
import { formatBytes, formatMs } from '../common/format';
import { formatRecordingTime, parseRecordingTime } from '../common/time-format';
import { openPrivateOutput } from '../recording/private-output';
import { RecordingReader } from '../recording/recording-reader';
import { RecordingPlayer } from '../replay/recording-player';
import { WHOLE_RECORDING_SAMPLES, type ProfileModel, type ProfileRange } from '../session/profile-model';
import type { SessionData } from '../session/session-feed';
import { loopName } from '../session/loop-identity';
import { findChartClock, loopChartClock } from '../ui/replay-marks';

const FORMATS = ['chrome-trace', 'cpuprofile', 'pprof'] as const;
type Format = (typeof FORMATS)[number];

const OPTIONS: readonly OptionSpec[] = [
  { name: 'format', kind: 'string', valueName: 'format', choices: FORMATS, description: 'what to write: chrome-trace (the default), cpuprofile or pprof' },
  { name: 'output', short: 'o', kind: 'string', valueName: 'file', description: 'where to write it (- for stdout)' },
  { name: 'from', kind: 'string', valueName: 'time', description: 'cpuprofile, pprof: the samples from here (90, 90s, 1:30 into the recording)' },
  { name: 'to', kind: 'string', valueName: 'time', description: 'cpuprofile, pprof: up to here' },
  { name: 'loop', kind: 'number', valueName: 'n', min: 0, description: 'cpuprofile, pprof: which loop, in the order `summary` lists them (default 0: the first process\'s main thread)' },
  { name: 'help', short: 'h', kind: 'flag', description: 'show this help' },
];

const HELP = `Usage: loopscope export <file> [--format chrome-trace|cpuprofile|pprof] [--from t --to t] [--loop n] -o <out>

Writes a recording in another tool's format:
  chrome-trace  JSON for Perfetto (ui.perfetto.dev) and chrome://tracing: counters for loop lag,
                utilization and memory; slices for GC pauses and blocked loops (with the stack
                in the slice's args); the CPU samples on the blocked loop's track; in
                trace-mode recordings, every callback as a slice named by its resource type.
                Every loop recorded (worker threads, child processes) has tracks of its own.
  cpuprofile    the CPU samples as Chrome DevTools' .cpuprofile (what node --cpu-prof writes):
                open it in DevTools' Performance panel or in speedscope.
  pprof         the CPU samples as gzipped pprof protobuf: go tool pprof, Pyroscope, Grafana.
A profile is one loop's: the first process's main thread, or the one --loop names. When the
recording has several loops (worker threads, child processes), export says which they are.

Options:
${'{options}'}

Examples:
  loopscope export s.rec --format chrome-trace -o trace.json
  loopscope export s.rec --format cpuprofile --from 1:30 --to 1:40 -o slow.cpuprofile
  loopscope export s.rec --format pprof -o cpu.pb.gz && go tool pprof -top cpu.pb.gz
  loopscope export s.rec --format pprof --loop 2 -o worker.pb.gz
`;

function timeOption(options: Readonly<Record<string, unknown>>, name: 'from' | 'to'): number | undefined {
  const text = options[name];
  if (typeof text !== 'string') return undefined;
  const ms = parseRecordingTime(text);
  if (ms === undefined) throw new UsageError(`--${name} must be a time into the recording such as 90, 90s, 1:30 or 1:02:03, got "${text}"`);
  return ms;
}

/** For waiting a few ms while a FIFO's reader catches up (Atomics.wait on it, never notified). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

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

  addBytes(bytes: Uint8Array): void {
    this.flush();
    this.write(bytes);
  }

  flush(): void {
    this.write(Buffer.from(this.parts.join('')));
    this.parts = [];
    this.size = 0;
  }

  private write(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      try {
        at += writeSync(this.fd, bytes, at);
      } catch (err) {
        // A FIFO is opened non-blocking (so that one with no reader fails at once): while its
        // reader is behind, wait for it as a blocking write would.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        Atomics.wait(PAUSE, 0, 0, 5);
      }
    }
    this.written += bytes.length;
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
  const format = (parsed.options['format'] as Format | undefined) ?? 'chrome-trace';
  const fromMs = timeOption(parsed.options, 'from');
  const toMs = timeOption(parsed.options, 'to');
  if (format === 'chrome-trace' && (fromMs !== undefined || toMs !== undefined)) throw new UsageError('--from and --to select the samples of a cpuprofile or pprof export; a chrome-trace holds the whole recording');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) throw new UsageError('--to must come after --from');
  const loop = parsed.options['loop'] as number | undefined;
  if (loop !== undefined && !Number.isInteger(loop)) throw new UsageError(`--loop must be a whole number (0 for the first loop), got ${loop}`);
  if (format === 'chrome-trace' && loop !== undefined) throw new UsageError('--loop selects the loop of a cpuprofile or pprof export; a chrome-trace holds every loop, each on tracks of its own');
  const reader = RecordingReader.open(file);
  try {
    if (out !== '-' && sameFile(out, file)) throw new UsageError(`-o ${out} is the recording itself, which the export would overwrite: give another output file`);
    if (fromMs !== undefined) refuseFromPastEnd(reader, fromMs, parsed.options['from'] as string);
    // A profile is read before the output is made: a --loop the file does not have makes no file.
    const profile = format === 'chrome-trace' ? undefined : readProfile(reader, loop, fromMs, toMs);
    if (profile?.note) process.stderr.write(`loopscope export: ${profile.note}\n`);
    writeOutput(out, format, (output) => (profile && format !== 'chrome-trace' ? writeProfile(profile, output, format) : writeTrace(reader, output, file)));
  } finally {
    reader.close();
  }
  return 0;
}

/** --from at or past the end selects no sample: it made an empty profile, exit 0. */
function refuseFromPastEnd(reader: RecordingReader, fromMs: number, text: string): void {
  const lengthMs = reader.info.endMs - reader.info.firstMs;
  if (fromMs < lengthMs) return;
  throw new UsageError(`--from ${text} is past the end of the recording, which is ${formatRecordingTime(lengthMs)} long (${formatMs(lengthMs)}): give an earlier time`);
}

/** Whether two paths name one file (a hard link, another spelling); false when either is missing. */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * Removes a half-written export: only the regular file it opened, still at its path. Never what
 * else the path may name (a device, a FIFO: run as root, `-o /dev/full` removed the device), nor
 * a file put there since.
 */
function removeHalfWritten(out: string, opened: Stats): void {
  try {
    const now = lstatSync(out);
    if (opened.isFile() && now.isFile() && now.dev === opened.dev && now.ino === opened.ino) unlinkSync(out);
  } catch {
    // Gone already, or not ours to remove: the error that brought us here is the one to tell.
  }
}

/**
 * Why the output could not be opened. A FIFO is opened non-blocking so that one with no reader
 * fails at once rather than hang: its ENXIO ("no such device or address") would not tell a user.
 */
function openReason(out: string, err: unknown): string {
  if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || !isFifo(out)) return fsReason(err);
  return 'it is a FIFO that nothing reads: start its reader first (export does not wait for one)';
}

function isFifo(path: string): boolean {
  try {
    return lstatSync(path).isFIFO();
  } catch {
    return false;
  }
}

function writeOutput(out: string, format: Format, write: (output: Output) => Written): void {
  let fd: number;
  let opened: Stats | undefined;
  try {
    fd = out === '-' ? 1 : openPrivateOutput(out);
    if (out !== '-') opened = fstatSync(fd);
  } catch (err) {
    throw new RecordingError(`cannot write ${out}: ${openReason(out, err)}`, RECORDING_EXIT.cannotWrite);
  }
  try {
    const output = new Output(fd);
    const { what, warnings } = write(output);
    for (const w of warnings) process.stderr.write(`loopscope export: warning: ${w}\n`);
    if (out !== '-') process.stderr.write(`loopscope export: wrote ${out} (${what}, ${formatBytes(output.written)}): ${OPEN_IN[format]}\n`);
  } catch (err) {
    if (opened) removeHalfWritten(out, opened);
    throw err instanceof RecordingError ? err : new RecordingError(`cannot write ${out}: ${fsReason(err)}`, RECORDING_EXIT.cannotWrite);
  } finally {
    if (out !== '-') closeSync(fd);
  }
}

const OPEN_IN: Readonly<Record<Format, string>> = {
  'chrome-trace': 'open it in ui.perfetto.dev or chrome://tracing',
  cpuprofile: 'open it in Chrome DevTools\' Performance panel or in speedscope',
  pprof: 'read it with go tool pprof, or send it to Pyroscope',
};

interface Written {
  readonly what: string;
  readonly warnings: readonly string[];
}

/** One loop's CPU samples in the range asked for, and what to say about them. */
interface ProfileExport {
  readonly model: ProfileModel;
  readonly range: ProfileRange;
  readonly timeOriginMs: number;
  readonly warnings: readonly string[];
  /** Which loop this is, when the recording has others (and how to choose them). */
  readonly note: string | undefined;
}

/** Loops a note or an error names; `summary` lists them all. */
const LOOPS_NAMED = 8;

/** "0 pid 123 main, 1 pid 124 worker 2 cruncher-0", the first LOOPS_NAMED of them. */
function loopList(loops: readonly { readonly data: SessionData }[]): string {
  const named = loops.slice(0, LOOPS_NAMED).map(({ data }, i) => `${i} pid ${data.state.hello!.pid} ${loopName(data.state.hello!)}`);
  const more = loops.length > LOOPS_NAMED ? `, and ${loops.length - LOOPS_NAMED} more (loopscope summary lists them in this order)` : '';
  return named.join(', ') + more;
}

/** The CPU samples of a loop (--loop; the first by default), of the recording or of --from/--to. */
function readProfile(reader: RecordingReader, choice: number | undefined, fromMs: number | undefined, toMs: number | undefined): ProfileExport {
  const player = new RecordingPlayer(reader, { trace: false, recentSamples: 0, refuseOverLimit: true, profileSamples: WHOLE_RECORDING_SAMPLES });
  player.advanceTo(Infinity);
  const loops = player.numberedLoops;
  const index = choice ?? 0;
  const chosen = loops[index];
  if (!chosen && choice !== undefined) {
    throw new UsageError(loops.length === 0
      ? `--loop ${choice}: the recording holds no loop (no probe said hello)`
      : `--loop ${choice}: the recording has ${loops.length === 1 ? 'one loop' : `loops 0 to ${loops.length - 1}`}: ${loopList(loops)}`);
  }
  const data = chosen?.data ?? player;
  const warnings = [...player.warnings];
  const model = data.profile;
  if (model.dropped > 0) warnings.push(`the export holds the last ${WHOLE_RECORDING_SAMPLES} CPU samples of the loop; ${model.dropped} earlier ones are left out (--from and --to choose a part)`);
  // Times into the recording, to the loop's probe clock: its chart clock maps the file's to it.
  const first = findChartClock(reader);
  const clock = !first || index === 0 ? first : loopChartClock(first, player.state.hello, data.state.hello, data.state.totals.firstSampleUs);
  const toUs = (ms: number | undefined, none: number): number => (ms === undefined || !clock ? none : clock.originUs + (reader.info.firstMs + ms - clock.offsetMs) * 1000);
  const range = model.range(toUs(fromMs, -Infinity), toUs(toMs, Infinity));
  if (range.nodes.length === 0) {
    warnings.push(model.samples === 0
      ? `${loops.length > 1 ? 'this loop has' : 'the recording holds'} no CPU samples: it was made with --no-profile, or by a loopscope without the sampler`
      : 'no CPU samples between --from and --to');
  }
  const note = loops.length > 1 && chosen
    ? `this profile is loop ${index} of ${loops.length}, pid ${chosen.data.state.hello!.pid} ${loopName(chosen.data.state.hello!)}${choice === undefined ? ` (--loop n chooses another: ${loopList(loops)})` : ''}`
    : undefined;
  return { model, range, timeOriginMs: data.state.hello?.timeOriginMs ?? 0, warnings, note };
}

function writeProfile(p: ProfileExport, output: Output, format: 'cpuprofile' | 'pprof'): Written {
  if (format === 'cpuprofile') output.add(JSON.stringify(toCpuProfile(p.model, p.range)));
  else output.addBytes(toPprof(p.model, p.range, { timeOriginMs: p.timeOriginMs }));
  output.flush();
  return { what: `${p.range.nodes.length} samples`, warnings: p.warnings };
}

function writeTrace(reader: RecordingReader, output: Output, file: string): Written {
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
  return { what: `${count} events`, warnings: player.warnings };
}
