// The replay clock: maps wall time to recording time, for play, pause, speed and seek. Pure:
// every function takes the current wall time and returns a new clock.

export const SPEEDS: readonly number[] = [0.25, 0.5, 1, 2, 4, 8, 16];

export interface ReplayClock {
  readonly playing: boolean;
  readonly speed: number;
  /** Recording time at `anchorWallMs`. */
  readonly anchorMs: number;
  readonly anchorWallMs: number;
  /** The range that can be played, ms since the recording's start. */
  readonly startMs: number;
  readonly endMs: number;
}

const clamp = (c: Pick<ReplayClock, 'startMs' | 'endMs'>, ms: number): number => Math.min(c.endMs, Math.max(c.startMs, ms));

export function createClock(startMs: number, endMs: number, nowWallMs: number, speed = 1): ReplayClock {
  return { playing: false, speed: clampSpeed(speed), anchorMs: startMs, anchorWallMs: nowWallMs, startMs, endMs: Math.max(startMs, endMs) };
}

export function clampSpeed(speed: number): number {
  return Math.min(SPEEDS[SPEEDS.length - 1]!, Math.max(SPEEDS[0]!, speed));
}

export function positionAt(c: ReplayClock, nowWallMs: number): number {
  return clamp(c, c.playing ? c.anchorMs + (nowWallMs - c.anchorWallMs) * c.speed : c.anchorMs);
}

/** True once a playing clock has reached the end. */
export function atEnd(c: ReplayClock, nowWallMs: number): boolean {
  return positionAt(c, nowWallMs) >= c.endMs;
}

/** Re-anchors at `now`, so that a change of speed or range does not move the position. */
const anchor = (c: ReplayClock, now: number): ReplayClock => ({ ...c, anchorMs: positionAt(c, now), anchorWallMs: now });

export function play(c: ReplayClock, now: number): ReplayClock {
  const a = anchor(c, now);
  // Playing from the end starts again from the beginning, as players do.
  return { ...a, playing: true, anchorMs: a.anchorMs >= a.endMs ? a.startMs : a.anchorMs };
}

export const pause = (c: ReplayClock, now: number): ReplayClock => ({ ...anchor(c, now), playing: false });

export const setSpeed = (c: ReplayClock, speed: number, now: number): ReplayClock => ({ ...anchor(c, now), speed: clampSpeed(speed) });

export const seek = (c: ReplayClock, ms: number, now: number): ReplayClock => ({ ...c, anchorMs: clamp(c, ms), anchorWallMs: now });

/** The recording grew (a file still being written): the end moves, the position does not. */
export const extend = (c: ReplayClock, endMs: number, now: number): ReplayClock => ({ ...anchor(c, now), endMs: Math.max(c.endMs, endMs) });

/** The next speed up or down the list. */
export function nextSpeed(speed: number, direction: 1 | -1): number {
  const i = SPEEDS.findIndex((s) => s >= speed);
  const at = i === -1 ? SPEEDS.length - 1 : i;
  return SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, SPEEDS[at] === speed ? at + direction : direction > 0 ? at : at - 1))]!;
}
