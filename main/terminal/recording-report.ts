// The readable report of `loopscope summary <file>`: the live run's summary text, then what
// only the whole recording tells. Pure.

import { renderSummaryText } from './summary-text';
import { formatBytes, formatClock, formatMs, formatPercent } from '../common/format';
import type { RecordingSummary } from '../reports/recording-summary';


export function renderRecordingReport(r: RecordingSummary): string {
  const cwd = r.cwd;
  const lines: string[] = [];
  const f = r.file;
  lines.push(`recording ${f.path}: ${formatBytes(f.bytes)}, ${f.frames} frames, started ${f.startedAt}${f.complete ? '' : ', not closed cleanly'}`);
  lines.push(renderSummaryText(r.summary, cwd).trimEnd());
  const w = r.worst;
  // Only when it is a part of the recording: for a short one it would repeat the totals.
  if (w && w.endUs - w.startUs < 0.9 * r.summary.durationMs * 1000) {
    const span = `+${formatClock(w.startUs / 1000)} to +${formatClock(w.endUs / 1000)}`;
    lines.push(`  worst ${formatMs((w.endUs - w.startUs) / 1000)}  ${span} (process time): loop late ${formatMs(w.lateUs / 1000)} in all,` +
      ` lag p99 ${formatMs(w.lagP99Us / 1000)}, max ${formatMs(w.lagMaxUs / 1000)}, utilization ${formatPercent(w.utilization)},` +
      ` ${w.gcCount} GC pause${w.gcCount === 1 ? '' : 's'} (${formatMs(w.gcUs / 1000)})`);
  }
  return lines.join('\n') + '\n';
}
