// Frames of the loops that wait for the launched program's own (launched-root.ts). Their place
// in the session waits, their frames do not: `run --record` keeps them here and writes them, in
// the order and at the times they came, once the program's loop has opened the file. So the
// file holds every loop from its hello, as the live session does.

import { HEADER_BYTES, type ProbeMessage, type RawFrame } from '../../probe/wire';
import type { LiveSource } from '../session/live-source';

/**
 * What is held at most, in frame bytes (their decoded messages come on top): the wait lasts 3 s
 * at most, and trace mode sends tens of MB a second.
 */
export const MAX_HELD_BYTES = 32 * 1024 * 1024;

export interface HeldFrame {
  readonly source: LiveSource;
  readonly raw: RawFrame;
  readonly receivedAtMs: number;
  readonly message: ProbeMessage;
}

/** What was held, handed over once. */
export interface Held {
  /** The loops held, in the order they came. */
  readonly sources: readonly LiveSource[];
  /** Their frames, in the order they came. */
  readonly frames: readonly HeldFrame[];
  /**
   * Frames left out past the bound, per loop. Once one frame does not fit, no later one is
   * kept, of any loop: what is kept is then a prefix of what came, and decodes.
   */
  readonly dropped: ReadonlyMap<LiveSource, number>;
}

export class HeldFrames {
  private readonly sources: LiveSource[] = [];
  private readonly frames: HeldFrame[] = [];
  private readonly dropped = new Map<LiveSource, number>();
  private readonly unsubscribes: (() => void)[] = [];
  private bytes = 0;
  private released = false;

  constructor(private readonly maxBytes = MAX_HELD_BYTES) {}

  /** Keeps `source`'s frames from now on, until release(); nothing once released. */
  hold(source: LiveSource): void {
    if (this.released) return;
    this.sources.push(source);
    this.unsubscribes.push(source.onFrame((raw, receivedAtMs, message) => {
      const size = HEADER_BYTES + raw.payload.byteLength;
      if (this.dropped.size > 0 || this.bytes + size > this.maxBytes) {
        this.dropped.set(source, (this.dropped.get(source) ?? 0) + 1);
        return;
      }
      this.bytes += size;
      // A copy: the payload may be a view into a large socket buffer.
      this.frames.push({ source, raw: { type: raw.type, payload: new Uint8Array(raw.payload) }, receivedAtMs, message });
    }));
  }

  /** Stops holding, and hands over what was held; holds nothing after. */
  release(): Held {
    this.released = true;
    for (const u of this.unsubscribes.splice(0)) u();
    const held = { sources: this.sources.splice(0), frames: this.frames.splice(0), dropped: new Map(this.dropped) };
    this.dropped.clear();
    this.bytes = 0;
    return held;
  }
}
