// The Node processes of the current user, and for each whether it can be attached, whether
// a probe is inside, and whether its inspector is open (what `loopscope ps` and the Start
// screen list). It only reads: nothing is sent to any process.

import { decideAttachable, settingsOf, type AttachVia, type ProcessInfo } from './process-info';
import { processSource, type Listener, type ProcessSource } from './process-source';
import type { AttachErrorCode } from './errors';

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
  /** Its working directory, when it can be read. */
  readonly cwd: string | null;
  /** When it started, ms since the epoch, when the system tells. */
  readonly startedAtMs: number | null;
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
      cwd: info.cwd ?? null,
      startedAtMs: info.startedAtMs ?? null,
    };
  }));
}
