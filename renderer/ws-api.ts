// The UI's API over the web host's WebSocket (main/web-host/web-host.ts): calls wait for the
// socket to open, replies are matched by id, and pushed event batches go to the subscribers.

import type { CallMessage, HostApi, HostMessage, PickedFile, ShowMessage, UiApi, UiEvent, UiMethod } from '../main/ui/ui-api';
import { UI_METHOD_NAMES } from '../main/ui/ui-calls';

export interface SocketApi {
  readonly api: HostApi;
  /** Called once if the connection to loopscope is lost. */
  onLost(listener: (why: string) => void): void;
}

export function connectSocketApi(url: string): SocketApi {
  const ws = new WebSocket(url);
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Set<(events: readonly UiEvent[]) => void>();
  const lostListeners: ((why: string) => void)[] = [];
  let nextId = 1;
  let lost: string | undefined;
  const opened = new Promise<void>((resolve) => ws.addEventListener('open', () => resolve(), { once: true }));

  const loseWith = (why: string): void => {
    if (lost) return;
    lost = why;
    for (const p of pending.values()) p.reject(new Error(why));
    pending.clear();
    for (const l of lostListeners) l(why);
  };
  ws.addEventListener('close', () => loseWith('lost the connection to loopscope: is `loopscope serve` still running? Start it again and open the new URL it prints.'));
  ws.addEventListener('message', (e: MessageEvent<string>) => {
    const m = JSON.parse(e.data) as HostMessage;
    if ('events' in m) {
      for (const l of listeners) l(m.events);
      return;
    }
    const p = pending.get(m.id);
    pending.delete(m.id);
    if ('error' in m) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });

  const call = async (method: UiMethod, params: readonly unknown[]): Promise<unknown> => {
    await opened;
    if (lost) throw new Error(lost);
    const id = nextId++;
    const message: CallMessage = { id, method, params };
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify(message));
    });
  };

  const own: Pick<HostApi, 'openRecordingFile' | 'subscribe' | 'show'> = {
    openRecordingFile: (file, onProgress) => upload(new URL('upload', window.location.href), file, onProgress),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    show(sessionId) {
      const message: ShowMessage = { show: sessionId };
      void opened.then(() => {
        if (!lost) ws.send(JSON.stringify(message));
      });
    },
  };
  // Every method of the UI's table is a call over the socket, checked again on the other side.
  const calls = Object.fromEntries(UI_METHOD_NAMES.map((m) => [m, (...params: unknown[]) => call(m, params)])) as unknown as Omit<UiApi, 'subscribe'>;
  const api: HostApi = { ...calls, ...own };
  return {
    api,
    onLost(listener) {
      if (lost) listener(lost);
      else lostListeners.push(listener);
    },
  };
}

/**
 * Sends a picked or dropped file to the web host, which keeps it and opens it for replay.
 * XMLHttpRequest rather than fetch: it reports upload progress.
 */
function upload(url: URL, file: PickedFile, onProgress?: (fraction: number) => void): Promise<string> {
  url.searchParams.set('name', file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url.href);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress?.(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let body: { id?: unknown; error?: unknown } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // answered below
      }
      if (xhr.status === 200 && typeof body.id === 'string') resolve(body.id);
      else reject(new Error(typeof body.error === 'string' ? body.error : `the upload failed (HTTP ${xhr.status})`));
    });
    xhr.addEventListener('error', () => reject(new Error('the upload failed: lost the connection to loopscope')));
    xhr.send(file);
  });
}
