// The local ports of loopscope's own connections to inspectors, so that a connection left in a
// target's socket table is told from another client's (inspector-close.ts). Kept as long as the
// kernel shows a closed connection (TIME_WAIT, about a minute), then forgotten: the set stays
// small however long loopscope runs.

/** Longer than Linux's TIME_WAIT (60 s). */
const KEPT_MS = 120_000;

const ports = new Map<number, number>();

/** Notes a connection loopscope made to an inspector, from this local port. */
export function noteOwnPort(port: number | undefined): void {
  if (port === undefined || port === 0) return;
  const now = Date.now();
  ports.set(port, now);
  for (const [p, at] of ports) if (now - at > KEPT_MS) ports.delete(p);
}

export function isOwnPort(port: number): boolean {
  const at = ports.get(port);
  return at !== undefined && Date.now() - at <= KEPT_MS;
}
