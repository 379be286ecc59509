// The heap's floor over a session: the lowest heap used in each stretch of it. What a GC frees
// comes and goes; what it cannot free raises the floor, so a floor that keeps rising is memory
// kept (a leak, or a cache filling). Bounded: at most MAX_STRETCHES stretches, which double in
// length, two merged into one, as the session grows. Pure; kept in keyframes (JSON: null, not
// NaN, for a stretch with no sample).

export const MAX_STRETCHES = 64;
const FIRST_STRETCH_US = 1_000_000;

export interface HeapFloor {
  readonly startUs: number | undefined;
  readonly stretchUs: number;
  /** The lowest heap used in each stretch, bytes; null for a stretch with no sample. */
  readonly floors: readonly (number | null)[];
}

export const initialHeapFloor: HeapFloor = { startUs: undefined, stretchUs: FIRST_STRETCH_US, floors: [] };

const lower = (a: number | null | undefined, b: number | null | undefined): number | null => (a === null || a === undefined ? (b ?? null) : b !== null && b !== undefined && b < a ? b : a);

export function addHeapSample(h: HeapFloor, timeUs: number, heapUsedBytes: number): HeapFloor {
  if (!Number.isFinite(timeUs) || !Number.isFinite(heapUsedBytes)) return h;
  const startUs = h.startUs ?? timeUs;
  let { stretchUs, floors } = h;
  let i = Math.max(0, Math.floor((timeUs - startUs) / stretchUs));
  while (i >= MAX_STRETCHES) {
    const merged: (number | null)[] = [];
    for (let k = 0; k < floors.length; k += 2) merged.push(lower(floors[k], floors[k + 1]));
    floors = merged;
    stretchUs *= 2;
    i = Math.floor((timeUs - startUs) / stretchUs);
  }
  const next = floors.slice();
  while (next.length <= i) next.push(null);
  next[i] = lower(next[i], heapUsedBytes);
  return { startUs, stretchUs, floors: next };
}

export interface HeapTrend {
  /** The floor of the session's first quarter, and of its last. */
  readonly firstBytes: number;
  readonly lastBytes: number;
}

/** The rise worth telling: this much over a session at least this long, and this share. */
const TOLD_MIN_BYTES = 8 * 1024 * 1024;
const TOLD_MIN_RISE = 0.2;
const TOLD_MIN_SPAN_US = 20_000_000;

/** A floor that rose through the session, if it rose enough to tell; undefined otherwise. */
export function risingHeapFloor(h: HeapFloor): HeapTrend | undefined {
  const n = h.floors.length;
  if (n * h.stretchUs < TOLD_MIN_SPAN_US || n < 4) return undefined;
  const quarter = Math.ceil(n / 4);
  const floorOf = (part: readonly (number | null)[]): number | null => part.reduce<number | null>((m, v) => lower(m, v), null);
  const firstBytes = floorOf(h.floors.slice(0, quarter));
  const lastBytes = floorOf(h.floors.slice(n - quarter));
  if (firstBytes === null || lastBytes === null) return undefined;
  const rise = lastBytes - firstBytes;
  return rise >= TOLD_MIN_BYTES && rise >= TOLD_MIN_RISE * firstBytes ? { firstBytes, lastBytes } : undefined;
}
