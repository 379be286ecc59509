// The loops an exporter exports: each a live session with who it is (process, thread, name).
// Today `run` and `attach` watch one main loop, a set of one; a session of many loops (worker
// threads, child processes) adds an entry per loop, and the exporters need nothing more.

import type { LiveSource } from '../session/live-source';

/** Who a loop is; exported as attributes on every one of its points. */
export interface LoopIdentity {
  readonly pid: number;
  readonly ppid: number;
  /** Node's threadId: 0 for the main thread. */
  readonly threadId: number;
  readonly name: string;
}

export interface FleetLoop {
  readonly identity: LoopIdentity;
  readonly source: LiveSource;
}

/** A loop for a live source, named from its thread when no name is given. */
export function loopOf(source: LiveSource, name?: string): FleetLoop {
  const { pid, ppid, threadId } = source.connection.hello;
  return { identity: { pid, ppid, threadId, name: name ?? (threadId === 0 ? 'main' : `worker ${threadId}`) }, source };
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
