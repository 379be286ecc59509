// How the profile's frames and numbers are written and coloured in the window. Pure.

import type { ProfileFrameKind, ProfileFrameView, ProfileView } from '../../main/ui/ui-api';
import { formatMs, urlPath } from '../../main/common/format';
import type { Unsampled } from '../../main/common/unsampled-text';

export const KIND_COLORS: Readonly<Record<ProfileFrameKind, string>> = {
  own: '#d9825b',
  node: '#5b7fa6',
  native: '#8d6bb8',
  idle: '#3a4352',
  gc: '#c69026',
  program: '#6b7280',
  probe: '#4b5566',
};

export const KIND_NAMES: Readonly<Record<ProfileFrameKind, string>> = {
  own: 'your code',
  node: "Node's code",
  native: 'native',
  idle: 'idle',
  gc: 'GC',
  program: "V8's own",
  probe: "the probe's",
};

/** Only the program's own files open in the editor: not Node's (node:) nor natives. */
export const opensInEditor = (f: ProfileFrameView): boolean => f.kind === 'own' && f.url !== '';

export function frameWhere(f: ProfileFrameView, line = f.lineNumber): string {
  if (f.url === '') return f.kind === 'native' ? 'native' : '';
  const file = urlPath(f.url);
  return `${file.split(/[\\/]/).pop()}:${line}`;
}

export function samplesMs(view: ProfileView, samples: number): string {
  return formatMs(samples * view.sampleIntervalMs);
}

export function share(view: ProfileView, samples: number): string {
  return view.samples > 0 ? `${((samples / view.samples) * 100).toFixed(1)}%` : '–';
}

/** The view's unsampled time, its frame named as the table names it, for unsampledText. */
export function unsampledOf(view: ProfileView, u: NonNullable<ProfileView['unsampled']>): Unsampled {
  const f = u.mostlyIn ? view.frames[u.mostlyIn.frame] : undefined;
  const where = f ? `${f.functionName}${frameWhere(f) ? ` (${frameWhere(f)})` : ''}` : undefined;
  return { ms: u.ms, spanMs: u.spanMs, ...(where && u.mostlyIn ? { mostlyIn: { where, ms: u.mostlyIn.ms } } : {}) };
}
