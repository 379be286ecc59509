// Structural sharing for what arrives from main: the host sends a whole new session view ~30
// times a second, mostly equal to the last. Keeping the previous objects wherever the new ones
// are deep-equal lets the store skip unchanged updates and React skip unchanged parts. Pure.

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `next`, with every part deep-equal to the same part of `prev` replaced by that part; `prev` itself if all is equal. */
export function keepEqual<T>(prev: T | undefined, next: T): T {
  if (prev === undefined || Object.is(prev, next)) return next;
  if (Array.isArray(prev) && Array.isArray(next)) {
    const out = next.map((v: unknown, i) => keepEqual(prev[i], v));
    return (out.length === prev.length && out.every((v, i) => v === prev[i]) ? prev : out) as T;
  }
  if (isRecord(prev) && isRecord(next)) {
    const out: Record<string, unknown> = {};
    let same = Object.keys(prev).length === Object.keys(next).length;
    for (const k of Object.keys(next)) {
      out[k] = keepEqual(prev[k], next[k]);
      same &&= out[k] === prev[k] && k in prev;
    }
    return (same ? prev : out) as T;
  }
  return next;
}
