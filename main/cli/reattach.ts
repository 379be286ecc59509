// Production mode keeps its connection: when the probe goes away while its process runs on
// (it turned itself off after an error, or its connection broke), loopscope attaches to the
// process again, as `loopscope attach` would, waiting longer after each failure.

import { attachToProcess } from '../attach/attach';
import { probePath } from '../launch/probe-path';
import type { ProbeServer } from '../server/probe-server';
import type { ProbeConfig } from '../../probe/wire';
import type { SessionWatch } from './session-watch';

const FIRST_WAIT_MS = 1000;
const LONGEST_WAIT_MS = 60_000;
const ATTACH_TIMEOUT_MS = 10_000;

export interface Reattach {
  /** No more attempts (the run is ending). */
  stop(): void;
}

export function reattachWhenLost(watch: SessionWatch, server: ProbeServer, config: ProbeConfig, alive: () => boolean, log: (line: string) => void): Reattach {
  const abort = new AbortController();
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    abort.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
  const again = async (pid: number): Promise<void> => {
    for (let wait = FIRST_WAIT_MS; ; wait = Math.min(LONGEST_WAIT_MS, wait * 2)) {
      await sleep(wait);
      if (abort.signal.aborted || !alive()) return;
      try {
        await attachToProcess({ pid, server, config, probeFile: probePath(), timeoutMs: ATTACH_TIMEOUT_MS, signal: abort.signal });
        return;
      } catch (err) {
        if (abort.signal.aborted) return;
        log(`cannot attach to process ${pid} again: ${err instanceof Error ? err.message : String(err)}; next try in ${Math.min(LONGEST_WAIT_MS, wait * 2) / 1000} s`);
      }
    }
  };
  watch.onSession((source) => {
    source.connection.on('close', () => {
      const { pid } = source.connection.hello;
      if (abort.signal.aborted || source.state.goodbye?.reason === 'target exiting' || !alive()) return;
      log(`process ${pid} runs on without its probe: attaching again`);
      void again(pid);
    });
  });
  return { stop: () => abort.abort() };
}
