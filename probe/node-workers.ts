// The process's worker threads, as the inspector's NodeWorker domain shows them to a session
// connected to the main thread (the probe's worker has one): each worker started before or
// after, by the main thread or by a worker (Node 18–26 list them all), with a session into it
// that can evaluate there. Each loop's probe uses it to bring the probe into the workers its
// thread starts (worker-follow.ts); a worker's own probe uses it to reach the thread it watches
// (a worker thread cannot connect a session to its parent otherwise): its stack during a block,
// and its CPU sampler.

import type { Session } from 'node:inspector';

export interface WorkerTarget {
  readonly sessionId: string;
  readonly threadId: number;
  /** The worker's `name` option, else its script; '' when it has neither. */
  readonly name: string;
  /** Its script's path ('' for code given with `eval`). */
  readonly script: string;
}

/** The title NodeWorker gives a worker: "[worker <threadId>] <name>", the name omitted or "WorkerThread" when none was given. */
export function parseWorkerTitle(title: string, url: string): { threadId: number; name: string } | undefined {
  const m = /^\[worker (\d+)\] ?(.*)$/.exec(title);
  if (!m) return undefined;
  const given = m[2] === 'WorkerThread' ? '' : (m[2] ?? '');
  return { threadId: Number(m[1]), name: given || scriptOf(url) };
}

function scriptOf(url: string): string {
  if (!url.startsWith('file://')) return url;
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return url;
  }
}

type Reply = (err: Error | null, result?: unknown) => void;
type EventListener = (message: { params: unknown }) => void;

interface AttachedParams {
  sessionId?: unknown;
  workerInfo?: { title?: unknown; url?: unknown };
}

export class NodeWorkers {
  private nextId = 1;
  /** Sessions under check (ifRunningAfter): the timer that tells their worker runs on. */
  private readonly checks = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly pending = new Map<number, { readonly sessionId: string; readonly reply: Reply }>();
  /** The session whose end is being handled: its worker is gone, so no check of it may start. */
  private ending: string | undefined;
  /** Events of the domains enabled in a worker (the sampler's Profiler), by session and method. */
  private readonly events = new Map<string, Map<string, EventListener[]>>();
  private stopped = false;

  constructor(private readonly session: Session, onWorker: (w: WorkerTarget) => void) {
    session.on('NodeWorker.attachedToWorker', (m: { params?: AttachedParams }) => {
      try {
        const p = m.params;
        if (this.stopped || typeof p?.sessionId !== 'string') return;
        const parsed = parseWorkerTitle(String(p.workerInfo?.title ?? ''), String(p.workerInfo?.url ?? ''));
        const url = String(p.workerInfo?.url ?? '');
        if (parsed) onWorker({ sessionId: p.sessionId, ...parsed, script: url === '' ? '' : scriptOf(url) });
        else this.detach(p.sessionId);
      } catch {
        // a worker we cannot name is left alone
      }
    });
    session.on('NodeWorker.detachedFromWorker', (m: { params?: { sessionId?: unknown } }) => {
      try {
        const sessionId = m.params?.sessionId;
        if (typeof sessionId !== 'string') return;
        clearTimeout(this.checks.get(sessionId));
        this.checks.delete(sessionId);
        // A worker that ended answers nothing more: its calls fail now, not never.
        this.ending = sessionId;
        for (const [id, call] of this.pending) {
          if (call.sessionId !== sessionId) continue;
          this.pending.delete(id);
          call.reply(new Error('the worker ended'));
        }
      } catch {
        // not ours to understand
      } finally {
        this.ending = undefined;
      }
    });
    session.on('NodeWorker.receivedMessageFromWorker', (m: { params?: { sessionId?: unknown; message?: unknown } }) => {
      try {
        const text = m.params?.message;
        if (typeof text !== 'string') return;
        const message = JSON.parse(text) as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: { message?: unknown } };
        if (typeof message.id !== 'number') {
          const listeners = typeof message.method === 'string' ? this.events.get(String(m.params?.sessionId))?.get(message.method) : undefined;
          for (const l of listeners ?? []) l({ params: message.params });
          return;
        }
        const call = this.pending.get(message.id);
        if (!call) return;
        this.pending.delete(message.id);
        if (message.error) call.reply(new Error(String(message.error.message ?? 'error')));
        else call.reply(null, message.result);
      } catch {
        // not ours to understand
      }
    });
  }

  /** Starts listing: the workers that run now, then each one as it starts. */
  enable(done: (err: Error | null) => void): void {
    this.session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (err) => done(err));
  }

  /** One inspector call inside a worker; `reply` gets its result, or an error. */
  send(sessionId: string, method: string, params: object, reply: Reply): void {
    const id = this.nextId++;
    this.pending.set(id, { sessionId, reply });
    this.session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }, (err) => {
      if (!err) return;
      this.pending.delete(id);
      reply(err);
    });
  }

  /**
   * `then` in `ms`, unless that session ends first (its worker ended, or we detached it) or we
   * stop. The worker's reply to a call comes before its session's end, so a check started on a
   * reply sees that end.
   */
  ifRunningAfter(sessionId: string, ms: number, then: () => void): void {
    if (this.stopped || this.ending === sessionId || this.checks.has(sessionId)) return;
    this.checks.set(sessionId, setTimeout(() => {
      this.checks.delete(sessionId);
      then();
    }, ms).unref());
  }

  /** An event of a domain enabled in that worker (e.g. Profiler.consoleProfileFinished). */
  on(sessionId: string, method: string, listener: EventListener): void {
    let bySession = this.events.get(sessionId);
    if (!bySession) {
      bySession = new Map();
      this.events.set(sessionId, bySession);
    }
    bySession.set(method, [...(bySession.get(method) ?? []), listener]);
  }

  /** Ends our session in that worker (it runs on as if we had never been there). */
  detach(sessionId: string): void {
    this.events.delete(sessionId);
    try {
      this.session.post('NodeWorker.detach', { sessionId });
    } catch {
      // the session is gone already
    }
  }

  stop(): void {
    this.stopped = true;
    for (const { reply } of this.pending.values()) reply(new Error('stopped'));
    this.pending.clear();
    this.events.clear();
    for (const timer of this.checks.values()) clearTimeout(timer);
    this.checks.clear();
    try {
      this.session.post('NodeWorker.disable');
    } catch {
      // the session is gone already
    }
  }
}

/** An inspector session into one worker: for the stack capture (stack-capture.ts's InspectorLike) and the CPU sampler (cpu-sampler.ts's InspectorSession). */
export function workerChannel(workers: NodeWorkers, sessionId: string): { post(method: string, params: object, callback: Reply): void; on(event: string, listener: EventListener): void } {
  return {
    post: (method, params, callback) => workers.send(sessionId, method, params, callback),
    on: (event, listener) => workers.on(sessionId, event, listener),
  };
}
