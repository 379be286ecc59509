// Calls that arrive from a transport (the web host's WebSocket, Electron's IPC) are untrusted
// input: each is checked here before it reaches the backend, with an error that says what was
// wrong.

import { PROBE_MODES, type ProbeConfig, type ProbeMode } from '../probe/wire';
import type { UiApi, UiMethod } from './ui-api';

export class CallError extends Error {
  override readonly name = 'CallError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function range(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new CallError(`${name} must be a number from ${min} to ${max}`);
  return v;
}

export function parseConfig(v: unknown): Partial<ProbeConfig> {
  // JSON turns an omitted argument into null.
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new CallError('config must be an object');
  const out: { -readonly [K in keyof ProbeConfig]?: ProbeConfig[K] } = {};
  for (const [key, value] of Object.entries(v)) {
    if (key === 'mode') {
      if (!PROBE_MODES.includes(value as ProbeMode)) throw new CallError(`mode must be one of ${PROBE_MODES.join(', ')}`);
      out.mode = value as ProbeMode;
    } else if (key === 'promises') {
      if (typeof value !== 'boolean') throw new CallError('promises must be true or false');
      out.promises = value;
    } else if (key === 'intervalMs') out.intervalMs = range('intervalMs', value, 10, 60_000);
    else if (key === 'blockThresholdMs') out.blockThresholdMs = range('blockThresholdMs', value, 5, 600_000);
    else throw new CallError(`unknown config field "${key}"`);
  }
  return out;
}

function sessionId(v: unknown): string {
  if (typeof v !== 'string' || !/^s\d+$/.test(v)) throw new CallError('sessionId must be a session id such as "s1"');
  return v;
}

const UI_METHODS: readonly UiMethod[] = ['listProcesses', 'attach', 'launch', 'launchDemo', 'configure', 'stop'];

export function isUiMethod(v: unknown): v is UiMethod {
  return typeof v === 'string' && (UI_METHODS as readonly string[]).includes(v);
}

/** Checks `params` for `method`, then calls it. */
export function dispatchCall(api: UiApi, method: UiMethod, params: readonly unknown[]): Promise<unknown> {
  switch (method) {
    case 'listProcesses':
      return api.listProcesses();
    case 'attach': {
      const pid = params[0];
      if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) throw new CallError('pid must be a positive integer');
      return api.attach(pid, parseConfig(params[1]));
    }
    case 'launch': {
      const command = params[0];
      if (!Array.isArray(command) || command.length === 0 || !command.every((a): a is string => typeof a === 'string')) {
        throw new CallError('command must be a non-empty list of strings');
      }
      return api.launch(command, parseConfig(params[1]));
    }
    case 'launchDemo':
      return api.launchDemo(parseConfig(params[0]));
    case 'configure':
      return api.configure(sessionId(params[0]), parseConfig(params[1]));
    case 'stop':
      return api.stop(sessionId(params[0]));
  }
}
