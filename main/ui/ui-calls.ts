// Calls that arrive from a transport (the web host's WebSocket, Electron's IPC) are untrusted
// input: each is checked here before it reaches the backend, with an error that says what was
// wrong.

import { PROBE_MODES, type ProbeConfig, type ProbeMode } from '../../probe/wire';
import type { ReplayCommand, UiApi, UiMethod } from './ui-api';

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

function filePath(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 4096 || v.includes('\0')) throw new CallError('path must be a file path');
  return v;
}

export function parseReplayCommand(v: unknown): ReplayCommand {
  if (!isObject(v)) throw new CallError('command must be an object such as { "kind": "play" }');
  switch (v['kind']) {
    case 'play':
    case 'pause':
    case 'step':
      return { kind: v['kind'] };
    case 'speed':
      return { kind: 'speed', speed: range('speed', v['speed'], 0.25, 16) };
    case 'seek':
      return { kind: 'seek', t: range('t', v['t'], -1e9, 1e9) };
    default:
      throw new CallError('command kind must be one of play, pause, step, speed, seek');
  }
}

/** The widest timeline window asked for at once: a day (the trace holds far less). */
export const MAX_TIMELINE_SPAN_S = 86_400;

function timeWindow(from: unknown, to: unknown): [number, number] {
  const fromS = range('fromS', from, -1e9, 1e9);
  const toS = range('toS', to, -1e9, 1e9);
  if (!(toS > fromS) || toS - fromS > MAX_TIMELINE_SPAN_S) throw new CallError(`toS must be after fromS, by at most ${MAX_TIMELINE_SPAN_S} s`);
  return [fromS, toS];
}

function asyncId(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new CallError('asyncId must be a positive integer');
  return v;
}

const UI_METHODS: readonly UiMethod[] = [
  'listProcesses', 'attach', 'launch', 'launchDemo', 'configure', 'stop',
  'openRecording', 'recentRecordings', 'replay', 'startRecording', 'stopRecording', 'close', 'openInEditor',
  'timeline', 'causality',
];

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
    case 'openRecording':
      return api.openRecording(filePath(params[0]));
    case 'recentRecordings':
      return api.recentRecordings();
    case 'replay':
      return api.replay(sessionId(params[0]), parseReplayCommand(params[1]));
    case 'startRecording':
      return api.startRecording(sessionId(params[0]));
    case 'stopRecording':
      return api.stopRecording(sessionId(params[0]));
    case 'close':
      return api.close(sessionId(params[0]));
    case 'openInEditor':
      return api.openInEditor(filePath(params[0]), range('line', params[1], 0, 1e9), range('column', params[2], 0, 1e9));
    case 'timeline':
      return api.timeline(sessionId(params[0]), ...timeWindow(params[1], params[2]));
    case 'causality':
      return api.causality(sessionId(params[0]), asyncId(params[1]));
  }
}
