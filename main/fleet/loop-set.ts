// The loops an exporter exports: each a live session with who it is (process, thread, name).
// `run` and `attach` add an entry per loop of their session (worker threads, child processes).

import type { LiveSource } from '../session/live-source';
import { loopIdentity, type LoopIdentity } from '../session/loop-identity';

export type { LoopIdentity } from '../session/loop-identity';

export interface FleetLoop {
  readonly identity: LoopIdentity;
  readonly source: LiveSource;
}

/** A loop for a live source, named from its thread when no name is given. */
export function loopOf(source: LiveSource, name?: string): FleetLoop {
  const identity = loopIdentity(source.connection.hello);
  return { identity: name === undefined ? identity : { ...identity, name }, source };
}

type Listener = (loop: FleetLoop) => void;

export class LoopSet {
  private readonly loops: FleetLoop[] = [];
  private readonly added = new Set<Listener>();
  private readonly removed = new Set<Listener>();

  get list(): readonly FleetLoop[] {
    return this.loops;
  }

  add(loop: FleetLoop): void {
    if (this.loops.includes(loop)) return;
    this.loops.push(loop);
    for (const l of this.added) l(loop);
  }

  remove(loop: FleetLoop): void {
    const at = this.loops.indexOf(loop);
    if (at === -1) return;
    this.loops.splice(at, 1);
    for (const l of this.removed) l(loop);
  }

  /** Each loop added from now on, and those already in; returns the unsubscribe function. */
  onAdded(listener: Listener): () => void {
    for (const loop of this.loops) listener(loop);
    this.added.add(listener);
    return () => this.added.delete(listener);
  }

  onRemoved(listener: Listener): () => void {
    this.removed.add(listener);
    return () => this.removed.delete(listener);
  }
}
