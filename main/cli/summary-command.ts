// `loopscope summary <file> [--json]`: what a recording tells, from the file alone.

import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { RecordingReader } from '../recording/recording-reader';
import { renderRecordingReport } from '../terminal/recording-report';
import { summarizeRecording } from '../reports/recording-summary';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'json', kind: 'flag', description: 'print the JSON summary that `run --json` prints, computed from the file' },
  { name: 'help', short: 'h', kind: 'flag', description: 'show this help' },
];

const HELP = `Usage: loopscope summary <file> [--json]

Summarizes a recording made with --record: lag percentiles, the worst stretch, the stacks
that blocked the loop, GC, and the thread pool when the recording has tasks data.
A damaged or half-copied file is read as far as it can be, with a warning for what was lost.

Options:
${'{options}'}

Examples:
  loopscope summary s.rec
  loopscope summary --json s.rec > summary.json
`;

export async function summaryCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, OPTIONS);
  if (parsed.options['help']) {
    process.stdout.write(HELP.replace('{options}', describeOptions(OPTIONS)));
    return 0;
  }
  const [file, extra] = parsed.positionals;
  if (!file) throw new UsageError('no recording given. Usage: loopscope summary <file> [--json]');
  if (extra) throw new UsageError(`unexpected argument "${extra}"`);
  const reader = RecordingReader.open(file);
  try {
    const r = summarizeRecording(reader);
    if (parsed.options['json']) {
      process.stdout.write(JSON.stringify(r.summary, null, 2) + '\n');
      for (const w of r.summary.warnings) process.stderr.write(`loopscope summary: warning: ${w}\n`);
    } else {
      process.stdout.write(renderRecordingReport(r));
    }
  } finally {
    reader.close();
  }
  return 0;
}
