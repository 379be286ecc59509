// A worker loop's probe thread may end only once the process's main thread has handled the end
// of its inspector session. Node's main thread answers a session's end with one last message
// to the session's thread; if that thread is being torn down at that moment (its worker exited,
// or was ended after our 'stopped'), Node aborts the whole process (SIGABRT, in
// MainThreadInterface::Post, Node 20; bench/worker-teardown.mjs). Inspector messages reach the
// main thread as an interrupt, which V8 serves as soon as JavaScript runs there, so an answer
// from JavaScript on the main thread, asked for after the session ended, witnesses that the
// session's end has been handled. The main loop's probe answers; a worker loop's probe thread
// asks, and waits for the answer, bounded.

import { BroadcastChannel, threadId } from 'node:worker_threads';
import { guard } from './guard';

const CHANNEL = 'loopscope-probe-main-thread-witness';

interface Ping {
  readonly ping: string;
}

interface Pong {
  readonly pong: string;
}

const isPing = (data: unknown): data is Ping => typeof (data as Partial<Ping> | null)?.ping === 'string';
const isPong = (data: unknown): data is Pong => typeof (data as Partial<Pong> | null)?.pong === 'string';

/** On the main thread: answers every ask. Returns the function that stops answering. */
export function answerAsMainThread(): () => void {
  try {
    const channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = guard((event: unknown) => {
      const data = (event as { data?: unknown }).data;
      if (isPing(data)) channel.postMessage({ pong: data.ping });
    });
    channel.unref();
    return guard(() => channel.close());
  } catch {
    // The worker loops' probe threads then wait out their timeout.
    return () => undefined;
  }
}

let asked = 0;

/**
 * On a worker loop's probe thread: `then` once the main thread has run JavaScript since this
 * call (everything posted to it before has been handled), or after `timeoutMs` if it does not
 * answer (blocked in a long native call, or no probe there to answer). `then` runs once.
 */
export function afterMainThread(timeoutMs: number, then: () => void): void {
  const id = `${threadId}:${++asked}`;
  let channel: BroadcastChannel | undefined;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    channel?.close();
    then();
  };
  const timer = setTimeout(finish, timeoutMs);
  try {
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = guard((event: unknown) => {
      const data = (event as { data?: unknown }).data;
      if (isPong(data) && data.pong === id) finish();
    });
    channel.postMessage({ ping: id });
  } catch {
    finish();
  }
}
