// `loopscope ps [--json]`: the Node processes of the current user, and for each whether it
// can be attached, whether a probe is inside, and whether its inspector is open. It only
// reads: nothing is sent to any process.

import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { listNodeProcesses, type PsEntry } from '../attach/process-list';
import { AttachError } from '../attach/errors';
import { fit } from '../terminal/text';
import { printable } from '../../probe/wire-fields';

export const PS_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', kind: 'flag', description: 'print a JSON list instead of a table' },
  { name: 'help', short: 'h', kind: 'flag', description: 'show this help' },
];

export const PS_HELP = `Usage: loopscope ps [--json]

Lists the Node.js processes of the current user: PID, Node version, whether and how loopscope
can attach to it (ATTACH: "probe" by waking a dormant probe it was started with, no signal and
no inspector; "inspector" by opening its inspector for a moment; "no"), whether a loopscope
probe runs inside, whether its inspector is open, and its command line. It only looks: no
process is signalled or contacted.

On Linux it reads /proc and knows Node by the executable a process runs (not by its name,
which process.title can change). On macOS it asks ps and lsof. On Windows (best effort) it
asks PowerShell and netstat, and cannot tell whether a probe is inside.

Options:
{options}
`;

export function renderPsTable(entries: readonly PsEntry[], width: number): string {
  if (entries.length === 0) return 'No Node.js processes of yours are running.\n';
  const rows = entries.map((e) => [
    String(e.pid),
    e.nodeVersion ?? '?',
    e.via ?? 'no',
    e.probe === null ? '?' : e.probe ? 'inside' : '-',
    e.inspector.open ? `open${e.inspector.port === null ? '' : ` :${e.inspector.port}`}` : '-',
    printable(e.command.join(' ')),
  ]);
  const head = ['PID', 'NODE', 'ATTACH', 'PROBE', 'INSPECTOR', 'COMMAND'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: readonly string[]): string => fit(cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]!))).join('  '), width);
  const out = [line(head), ...rows.map(line)];
  const notes = entries.filter((e) => !e.attachable && e.reason !== null).map((e) => fit(`  ${e.pid}: ${e.reason}`, width));
  if (notes.length > 0) out.push('', 'Not attachable:', ...notes);
  return out.join('\n') + '\n';
}

export async function psCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, PS_OPTIONS);
  if (parsed.options['help']) {
    process.stdout.write(PS_HELP.replace('{options}', describeOptions(PS_OPTIONS)));
    return 0;
  }
  if (parsed.positionals.length > 0 || parsed.rest !== undefined) throw new UsageError('ps takes no arguments');
  let entries: PsEntry[];
  try {
    entries = (await listNodeProcesses()).sort((a, b) => a.pid - b.pid);
  } catch (err) {
    if (err instanceof AttachError) {
      process.stderr.write(`loopscope ps: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  if (parsed.options['json']) process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
  else process.stdout.write(renderPsTable(entries, process.stdout.isTTY ? process.stdout.columns ?? 120 : 1000));
  return 0;
}
