// Calls that arrive from a transport (the web host's WebSocket, Electron's IPC) are untrusted
// input: each is checked here before it reaches the backend, with an error that says what was
// wrong.

import { CONFIG_LIMITS, PROBE_MODES, type ProbeConfig, type ProbeMode } from '../../probe/wire';
import type { LaunchSettings, ReplayCommand, UiApi, UiMethod } from './ui-api';
import { MAX_TRACE_KEEP_S, MIN_TRACE_KEEP_S } from '../common/trace-terms';

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
    } else if (key === 'promises' || key === 'profile') {
      if (typeof value !== 'boolean') throw new CallError(`${key} must be true or false`);
      out[key] = value;
    } else if (key === 'intervalMs' || key === 'blockThresholdMs' || key === 'sampleIntervalMs') out[key] = range(key, value, CONFIG_LIMITS[key].min, CONFIG_LIMITS[key].max);
    else throw new CallError(`unknown config field "${key}"`);
  }
  return out;
}

function sessionId(v: unknown): string {
  if (typeof v !== 'string' || !/^s\d+$/.test(v)) throw new CallError('sessionId must be a session id such as "s1"');
  return v;
}

/** The session a window shows (HostApi.show): a session id, or null for none. */
export function parseShown(v: unknown): string | null {
  return v === null ? null : sessionId(v);
}

function filePath(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 4096 || v.includes('\0')) throw new CallError('path must be a file path');
  return v;
}

export function parseReplayCommand(v: unknown): ReplayCommand {
  if (!isObject(v)) throw new CallError('command must be an object such as { "kind": "play" }');
  switch (v['kind']) {
    case 'play':
    case 'step':
      return { kind: v['kind'] };
    case 'pause':
      return v['t'] === undefined ? { kind: 'pause' } : { kind: 'pause', t: range('t', v['t'], -1e9, 1e9) };
    case 'speed':
      return { kind: 'speed', speed: range('speed', v['speed'], 0.25, 16) };
    case 'seek':
      return { kind: 'seek', t: range('t', v['t'], -1e9, 1e9) };
    default:
      throw new CallError('command kind must be one of play, pause, step, speed, seek');
  }
}

/** The widest timeline or profile window asked for at once: a day (a session holds far less). */
export const MAX_TIMELINE_SPAN_S = 86_400;


function asyncId(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new CallError('asyncId must be a positive integer');
  return v;
}

type Check<T> = (value: unknown) => T;

const pid: Check<number> = (v) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new CallError('pid must be a positive integer');
  return v;
};

const command: Check<readonly string[]> = (v) => {
  if (!Array.isArray(v) || v.length === 0 || !v.every((a): a is string => typeof a === 'string')) throw new CallError('command must be a non-empty list of strings');
  return v;
};

const number = (name: string, min: number, max: number): Check<number> => (v) => range(name, v, min, max);

/** An environment a launch may add: this many variables, this many characters in all, at most. */
const MAX_ENV_VARS = 256;
const MAX_ENV_CHARS = 256 * 1024;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const parseLaunchSettings: Check<LaunchSettings | undefined> = (v) => {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new CallError('launch settings must be an object such as { "cwd": "/home/me/app", "env": { "PORT": "3000" } }');
  const out: { cwd?: string; env?: Record<string, string> } = {};
  for (const [key, value] of Object.entries(v)) {
    if (key === 'cwd') {
      if (value === undefined || value === null || value === '') continue;
      if (typeof value !== 'string' || value.length > 4096 || value.includes('\0')) throw new CallError('cwd must be a folder path');
      out.cwd = value;
    } else if (key === 'env') {
      if (value === undefined || value === null) continue;
      if (!isObject(value)) throw new CallError('env must be an object of variable names and values');
      const entries = Object.entries(value);
      if (entries.length > MAX_ENV_VARS) throw new CallError(`env may set at most ${MAX_ENV_VARS} variables`);
      let chars = 0;
      for (const [name, val] of entries) {
        if (!ENV_NAME.test(name)) throw new CallError(`"${name.slice(0, 40)}" is not a variable name: letters, digits and _, not starting with a digit`);
        if (typeof val !== 'string' || val.includes('\0')) throw new CallError(`the value of ${name} must be text`);
        chars += name.length + val.length;
      }
      if (chars > MAX_ENV_CHARS) throw new CallError(`env is too large (at most ${MAX_ENV_CHARS} characters in all)`);
      out.env = Object.fromEntries(entries) as Record<string, string>;
    } else throw new CallError(`unknown launch setting "${key}"`);
  }
  return out;
};

/** A line number of a program's output. */
const lineNumber: Check<number> = (v) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new CallError('from must be a line number (0 or more)');
  return v;
};

/**
 * How each method's parameters are checked, in order: the one table of the UI's methods
 * besides UiApi itself, which the compiler holds it to (a method or a parameter missing from
 * either fails to typecheck). The preload's API object is made from its names.
 */
export const UI_METHODS: { readonly [M in UiMethod]: Parameters<UiApi[M]> extends infer P ? { readonly [K in keyof P]-?: Check<P[K]> } : never } = {
  listProcesses: [],
  attach: [pid, parseConfig],
  launch: [command, parseConfig, parseLaunchSettings],
  launchDemo: [parseConfig],
  configure: [sessionId, parseConfig],
  stop: [sessionId],
  openRecording: [filePath],
  recentRecordings: [],
  replay: [sessionId, parseReplayCommand],
  startRecording: [sessionId],
  stopRecording: [sessionId],
  close: [sessionId],
  openInEditor: [filePath, number('line', 0, 1e9), number('column', 0, 1e9)],
  timeline: [sessionId, number('fromS', -1e9, 1e9), number('toS', -1e9, 1e9)],
  causality: [sessionId, asyncId],
  profile: [sessionId, number('fromS', -1e9, 1e9), number('toS', -1e9, 1e9)],
  setTraceLength: [sessionId, number('seconds', MIN_TRACE_KEEP_S, MAX_TRACE_KEEP_S)],
  output: [sessionId, lineNumber],
};

/** Checks that relate a method's parameters to each other, after each has passed its own. */
const span = (_id: string, fromS: number, toS: number): void => {
  if (!(toS > fromS) || toS - fromS > MAX_TIMELINE_SPAN_S) throw new CallError(`toS must be after fromS, by at most ${MAX_TIMELINE_SPAN_S} s`);
};

const CROSS_CHECKS: { readonly [M in UiMethod]?: (...args: Parameters<UiApi[M]>) => void } = {
  timeline: span,
  profile: span,
};

export const UI_METHOD_NAMES = Object.keys(UI_METHODS) as UiMethod[];

export function isUiMethod(v: unknown): v is UiMethod {
  return typeof v === 'string' && Object.hasOwn(UI_METHODS, v);
}

/** Checks `params` for `method`, then calls it. */
export function dispatchCall(api: UiApi, method: UiMethod, params: readonly unknown[]): Promise<unknown> {
  const checks: readonly Check<unknown>[] = UI_METHODS[method];
  if (params.length > checks.length) throw new CallError(`${method} takes at most ${checks.length} parameters`);
  const args = checks.map((check, i) => check(params[i]));
  (CROSS_CHECKS[method] as ((...a: unknown[]) => void) | undefined)?.(...args);
  return (api[method] as (...a: unknown[]) => Promise<unknown>)(...args);
}
