// `loopscope ps [--json]`: the Node processes of the current user, and for each whether it
// can be attached, whether a probe is inside, and whether its inspector is open. It only
// reads: nothing is sent to any process.

import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { decideAttachable, settingsOf, type AttachVia, type ProcessInfo } from '../attach/process-info';
import { processSource, type Listener, type ProcessSource } from '../attach/process-source';
import { AttachError, type AttachErrorCode } from '../attach/errors';
import { fit } from '../terminal/format';

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

export interface PsEntry {
  readonly pid: number;
  readonly ppid: number | null;
  readonly command: readonly string[];
  readonly executable: string | null;
  readonly nodeVersion: string | null;
  readonly attachable: boolean;
  /** How, when attachable: waking a dormant probe, or through the inspector. */
  readonly via: AttachVia | null;
  /** Why not, when not attachable. */
  readonly reason: string | null;
  readonly reasonCode: AttachErrorCode | null;
  /** null where it cannot be told (Windows, macOS). */
  readonly probe: boolean | null;
  readonly inspector: { readonly open: boolean; readonly port: number | null };
}

function inspectorState(info: ProcessInfo, listeners: readonly Listener[]): PsEntry['inspector'] {
  const settings = settingsOf(info);
  if (settings.port !== 0 && listeners.some((l) => l.port === settings.port)) return { open: true, port: settings.port };
  // --inspect=0 opens on a port the system picks, which only the process knows.
  if (settings.port === 0 && settings.openAtStart && listeners.length > 0) return { open: true, port: null };
  return { open: false, port: null };
}

export async function listNodeProcesses(source: ProcessSource = processSource()): Promise<PsEntry[]> {
  const me = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  const all = await source.list();
  const mine = all.filter((p) => p.isNode === true && p.pid !== process.pid && (me === undefined || p.uid === undefined || p.uid === me));
  const probeKnown = process.platform === 'linux';
  return Promise.all(mine.map(async (info): Promise<PsEntry> => {
    const [version, listeners] = await Promise.all([source.nodeVersion(info), source.listenersOf(info.pid).catch(() => [])]);
    const verdict = decideAttachable(info, me, version);
    return {
      pid: info.pid,
      ppid: info.ppid ?? null,
      command: info.argv,
      executable: info.exe ?? null,
      nodeVersion: version?.text ?? null,
      attachable: verdict.attachable && info.probeFile === undefined,
      via: verdict.attachable && info.probeFile === undefined ? verdict.via : null,
      reason: verdict.attachable ? (info.probeFile ? 'a loopscope probe is already inside' : null) : verdict.reason,
      reasonCode: verdict.attachable ? (info.probeFile ? 'already-attached' : null) : verdict.code,
      probe: probeKnown ? info.probeFile !== undefined : null,
      inspector: inspectorState(info, listeners),
    };
  }));
}

export function renderPsTable(entries: readonly PsEntry[], width: number): string {
  if (entries.length === 0) return 'No Node.js processes of yours are running.\n';
  const rows = entries.map((e) => [
    String(e.pid),
    e.nodeVersion ?? '?',
    e.via ?? 'no',
    e.probe === null ? '?' : e.probe ? 'inside' : '-',
    e.inspector.open ? `open${e.inspector.port === null ? '' : ` :${e.inspector.port}`}` : '-',
    e.command.join(' '),
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
