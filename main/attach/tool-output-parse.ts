// Parsers for the system tools loopscope asks where there is no /proc: BSD ps and lsof on
// macOS, PowerShell and netstat on Windows. Pure, tested on sample output.

import { parseSignalMask } from './proc-parse';

export interface PsRow {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly state: string;
  readonly caught: bigint | undefined;
  readonly ignored: bigint | undefined;
}

/** `ps -axo pid=,ppid=,uid=,state=,caught=,ignored=` (macOS). */
export function parsePsSignals(text: string): PsRow[] {
  const rows: PsRow[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    const [pid, ppid, uid] = cols.slice(0, 3).map(Number);
    if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isInteger(uid)) continue;
    const mask = (hex: string): bigint | undefined => {
      try {
        return parseSignalMask(hex);
      } catch {
        return undefined;
      }
    };
    rows.push({ pid: pid!, ppid: ppid!, uid: uid!, state: cols[3]!.charAt(0), caught: mask(cols[4]!), ignored: mask(cols[5]!) });
  }
  return rows;
}

/** `ps -axww -o pid=,<field>=`: the PID, then the rest of the line (comm or args). */
export function parsePsTextColumn(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s(.*)$/.exec(line);
    if (m) out.set(Number(m[1]), m[2]!.trim());
  }
  return out;
}

export interface ToolListener {
  readonly pid: number;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** Splits `host:port`, `[v6]:port` or `*:port` as lsof and netstat print them. */
export function splitAddress(text: string): { address: string; port: number; family: 4 | 6 } | undefined {
  const m = /^(?:\[([^\]]+)\]|(.*)):(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const raw = m[1] ?? m[2]!;
  const family: 4 | 6 = m[1] !== undefined || raw.includes(':') ? 6 : 4;
  const address = raw === '*' ? '0.0.0.0' : raw.replace(/%.*$/, '');
  return { address, port: Number(m[3]), family };
}

/** `lsof -nP -iTCP -sTCP:LISTEN -F pn`: `p<pid>` lines, each followed by `n<address>` lines. */
export function parseLsofListeners(text: string): ToolListener[] {
  const out: ToolListener[] = [];
  let pid: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('p')) pid = Number(line.slice(1));
    else if (line.startsWith('n') && pid !== undefined) {
      const a = splitAddress(line.slice(1));
      if (a) out.push({ pid, ...a });
    }
  }
  return out;
}

/** `netstat -ano -p TCP` / `-p TCPv6` (Windows): the LISTENING rows. */
export function parseNetstatListeners(text: string): ToolListener[] {
  const out: ToolListener[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || cols[0] !== 'TCP' || cols[3] !== 'LISTENING') continue;
    const a = splitAddress(cols[1]!);
    const pid = Number(cols[4]);
    if (a && Number.isInteger(pid)) out.push({ pid, ...a });
  }
  return out;
}

export interface WindowsProcessRow {
  readonly pid: number;
  readonly ppid: number | undefined;
  readonly exe: string | undefined;
  readonly commandLine: string | undefined;
}

/** PowerShell `Get-CimInstance Win32_Process | ... | ConvertTo-Json`: one object, or an array. */
export function parseWindowsProcesses(json: string): WindowsProcessRow[] {
  if (json.trim() === '') return [];
  const value: unknown = JSON.parse(json);
  const list = Array.isArray(value) ? value : [value];
  const rows: WindowsProcessRow[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    if (typeof o['ProcessId'] !== 'number') continue;
    rows.push({
      pid: o['ProcessId'],
      ppid: typeof o['ParentProcessId'] === 'number' ? o['ParentProcessId'] : undefined,
      exe: typeof o['ExecutablePath'] === 'string' ? o['ExecutablePath'] : undefined,
      commandLine: typeof o['CommandLine'] === 'string' ? o['CommandLine'] : undefined,
    });
  }
  return rows;
}

/** A Windows command line split roughly into arguments (for display and flag reading). */
export function splitWindowsCommandLine(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}
