// Axis ticks people read at a glance: steps of 1, 2 or 5 × 10ⁿ, at whole multiples of the
// step, labelled with as many decimals as the step needs (so never "0.1 s 0.1 s 0.2 s", nor
// 95/190/285). Shared by the charts and the trace timeline. Pure.

/** The smallest step of 1, 2 or 5 × 10ⁿ that splits `span` into at most `maxTicks` parts. */
export function niceStep(span: number, maxTicks: number): number {
  const rough = span / Math.max(1, maxTicks);
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough * (1 - 1e-9)) ?? 10 * power;
}

/** The multiples of `step` from `from` to `to`, trimmed of float noise (0.2 × 51 is 10.200000000000001). */
export function ticksOf(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  if (!(step > 0) || !(to >= from)) return out;
  for (let i = Math.ceil(from / step - 1e-9); i * step <= to + step * 1e-9 && out.length < 1000; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** Ticks for [from, to], at most about `maxTicks` of them, and their step. */
export function niceTicks(from: number, to: number, maxTicks: number): { ticks: number[]; step: number } {
  const step = niceStep(to - from, maxTicks);
  return { ticks: ticksOf(from, to, step), step };
}

/** Decimals a tick of this step needs: 0.5 → 1, 0.25 s steps never come (1, 2, 5 only). */
export function decimalsFor(step: number): number {
  return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
}

/** A value axis from 0: its top (a whole tick above the largest value) and ticks. */
export function valueAxis(max: number, maxTicks = 5): { top: number; ticks: number[]; step: number } {
  const step = niceStep(max > 0 ? max : 1, maxTicks);
  const top = Math.max(step, Math.ceil((max > 0 ? max : 1) / step - 1e-9) * step);
  return { top, ticks: ticksOf(0, top, step), step };
}
