// OpenTelemetry metric names as Prometheus names, per OpenTelemetry's Prometheus
// compatibility rules: the unit is appended in Prometheus' words (s → _seconds, By → _bytes,
// a gauge of unit 1 → _ratio, an annotation such as {block} dropped), then the dots become
// underscores and counters get _total. The JS Prometheus serializer does the last two; it
// leaves the unit out, so this adds it. Pure.

import type { MetricSpec } from './metric-names';

const UNIT_WORDS: Readonly<Record<string, string>> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes' };

function unitWord(spec: MetricSpec): string | undefined {
  const unit = spec.unit.replace(/\{[^}]*\}/g, '').trim();
  if (unit === '') return undefined;
  if (unit === '1') return spec.kind === 'gauge' ? 'ratio' : undefined;
  return UNIT_WORDS[unit] ?? unit.replace(/[^A-Za-z0-9]/g, '');
}

/** The name to hand the serializer: the OpenTelemetry name with its unit's word appended. */
export function withUnitSuffix(spec: MetricSpec): string {
  const word = unitWord(spec);
  return word && !spec.name.endsWith(`.${word}`) && !spec.name.endsWith(`_${word}`) ? `${spec.name}.${word}` : spec.name;
}

