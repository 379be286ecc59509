// The dormant probe's wake-up, the part both sides share: where its socket lives, and the one
// request it takes and the answer it gives. Pure (no Node APIs): main builds the request, the
// probe reads it, as untrusted input, and answers.
//
// A process started with the probe preloaded (`--require <dist/probe.js>`, e.g. through
// NODE_OPTIONS) and not by `loopscope run` keeps a Unix socket listening, and nothing else:
// no timer, no thread. `loopscope attach <pid>` sends it the probe server's address and a
// one-time token, as the inspector path does, and the probe starts. Only the same user can
// reach the socket: it lives in a directory of that user's, 0700, and is itself 0600 (the
// JVM's attach listener works the same way).

import { PROBE_MODES, type ProbeConfig } from './wire';

/** The directory for the sockets, per user, in the temporary directory (a dot name: no loopscope-* cleanup may take it). */
export function wakeDirName(uid: number): string {
  return `.loopscope-attach-${uid}`;
}

/** The socket of the process `pid` (as the process sees its own PID). */
export function wakeSocketName(pid: number): string {
  return `${pid}.sock`;
}

/** A path that is a wake socket: the directory and file names above. */
export const WAKE_SOCKET_PATTERN = /\/\.loopscope-attach-\d+\/\d+\.sock$/;

/** The request is one line of JSON, at most this long: anything longer is not ours. */
export const WAKE_MAX_BYTES = 4096;
/** A connection must send its request within this long. */
export const WAKE_TIMEOUT_MS = 2000;
/** Unix socket paths are at most 107 bytes on Linux (108 with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

export interface WakeRequest {
  /** The probe server's socket (or named pipe) to connect to. */
  readonly socketPath: string;
  /** The one-time token the probe shows in its hello. */
  readonly token: string;
  readonly config: Partial<ProbeConfig>;
}

export type WakeAnswer =
  | { readonly status: 'started'; readonly version: string }
  | { readonly status: 'already-running'; readonly version: string }
  | { readonly status: 'failed'; readonly error: string };

const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The request as one line. */
export function encodeWakeRequest(r: WakeRequest): string {
  return `${JSON.stringify(r)}\n`;
}

/**
 * Reads a request line (without its newline). Returns the request, or what is wrong with it.
 * Only the fields above, with the shapes above, are taken; the config's values are checked
 * again by the probe's own validation.
 */
export function parseWakeRequest(line: string): WakeRequest | { readonly error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'the request is not JSON' };
  }
  const o = value as { socketPath?: unknown; token?: unknown; config?: unknown } | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) return { error: 'the request is not an object' };
  const { socketPath, token, config } = o;
  if (typeof token !== 'string' || !TOKEN.test(token)) return { error: 'bad token' };
  if (typeof socketPath !== 'string' || socketPath.includes('\0') || socketPath.length === 0 || utf8Length(socketPath) > MAX_SOCKET_PATH_BYTES) {
    return { error: 'bad socket path' };
  }
  const isPipe = socketPath.startsWith('\\\\.\\pipe\\');
  if (!isPipe && !socketPath.startsWith('/')) return { error: 'the socket path is not absolute' };
  if (config !== undefined && (config === null || typeof config !== 'object' || Array.isArray(config))) return { error: 'bad config' };
  const c = (config ?? {}) as Record<string, unknown>;
  const picked: { -readonly [K in keyof ProbeConfig]?: ProbeConfig[K] } = {};
  if (typeof c['mode'] === 'string' && (PROBE_MODES as readonly string[]).includes(c['mode'])) picked.mode = c['mode'] as ProbeConfig['mode'];
  if (typeof c['promises'] === 'boolean') picked.promises = c['promises'];
  if (typeof c['intervalMs'] === 'number') picked.intervalMs = c['intervalMs'];
  if (typeof c['blockThresholdMs'] === 'number') picked.blockThresholdMs = c['blockThresholdMs'];
  return { socketPath, token, config: picked };
}

/** Reads the probe's answer line; anything else is a failure that says so. */
export function parseWakeAnswer(line: string): WakeAnswer {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { status: 'failed', error: 'the probe did not answer in its format' };
  }
  const o = value as { status?: unknown; version?: unknown; error?: unknown } | null;
  if (o?.status === 'started' || o?.status === 'already-running') return { status: o.status, version: typeof o.version === 'string' ? o.version.slice(0, 64) : 'unknown' };
  if (o?.status === 'failed') return { status: 'failed', error: typeof o.error === 'string' ? o.error.slice(0, 500) : 'the probe did not say why' };
  return { status: 'failed', error: 'the probe did not answer in its format' };
}
