// Writing frames into the shared ring on the target's main thread: a frame that does not
// fit is dropped and counted (never waited for), and strings are sent once, as dictionary
// entries, and referred to by id after that.

import { MessageType, type MessageTypeId } from './wire';
import { encodeDictionary } from './wire-binary';
import type { SharedViews } from './shared-state';

export class FrameWriter {
  private readonly ids = new Map<string, number>();

  constructor(private readonly views: SharedViews) {}

  /** False when the ring had no room: the frame is dropped and counted. */
  write(type: MessageTypeId, frame: Uint8Array): boolean {
    if (this.views.write(frame)) return true;
    this.views.countDrop(type, frame.byteLength);
    return false;
  }

  /** Counts a frame of `type` that was not even encoded (its strings could not be sent). */
  drop(type: MessageTypeId): void {
    this.views.countDrop(type, 0);
  }

  /** The dictionary ids of `strings`, sending the new ones first; undefined when that could not be sent. */
  idsFor(strings: readonly string[]): number[] | undefined {
    const fresh = strings.filter((s) => !this.ids.has(s));
    if (fresh.length > 0) {
      const entries = fresh.map((s, i) => [this.ids.size + i + 1, s] as const);
      // Frames refer to dictionary ids, so an id is only taken once its entry is on its way.
      if (!this.write(MessageType.Dictionary, encodeDictionary(entries))) return undefined;
      for (const [id, s] of entries) this.ids.set(s, id);
    }
    return strings.map((s) => this.ids.get(s)!);
  }
}
