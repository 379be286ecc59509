// Reading the fields of JSON messages: every value checked for its type and its limits,
// nothing from the wire trusted. Pure.

import { MAX_NAME_LENGTH, MAX_STACK_FRAMES, PROBE_MODES, WireError, WireLimitError, type ProbeMode, type StackFrame } from './wire';
import { LOG_BUCKETS } from './log-histogram';

export const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Text from the wire with its control characters (C0, DEL, C1) as spaces: a target's function
 * names, file names and messages reach the terminal, a log and the window, where an escape
 * sequence would act (clear the screen, write the clipboard) instead of showing.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
}

const printableStrings = (_key: string, value: unknown): unknown => (typeof value === 'string' ? printable(value) : value);
/** JSON text that may hold a control character in a string: C0 ones only escaped, DEL and C1 ones raw too. */
const MAY_HOLD_CONTROLS = /[\\\x7f-\x9f]/;

/** JSON.parse, with every string value printable (object keys are left as they came). Throws as JSON.parse does. */
export function parsePrintableJson(text: string): unknown {
  // A reviver (a call per value) slows a parse down several times: only where it has work.
  return MAY_HOLD_CONTROLS.test(text) ? JSON.parse(text, printableStrings) : JSON.parse(text);
}

export function parseJson(payload: Uint8Array, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    throw new WireError(`${what}: payload is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = parsePrintableJson(text);
  } catch {
    throw new WireError(`${what}: payload is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WireError(`${what}: payload is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function num(o: Record<string, unknown>, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new WireError(`${what}: field "${key}" must be a finite number`);
  return v;
}

export function str(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new WireError(`${what}: field "${key}" must be a string`);
  return v;
}

/** A string within MAX_NAME_LENGTH. */
export function nameField(o: Record<string, unknown>, key: string, what: string): string {
  const v = str(o, key, what);
  if (v.length > MAX_NAME_LENGTH) throw new WireLimitError(`${what}: field "${key}" has ${v.length} characters, more than the limit of ${MAX_NAME_LENGTH}`);
  return v;
}

export function optNameField(o: Record<string, unknown>, key: string, what: string): string | undefined {
  return o[key] === undefined ? undefined : nameField(o, key, what);
}

/** Absent, or one of `allowed`. */
export function optOneOf<T extends string>(o: Record<string, unknown>, key: string, allowed: readonly T[], what: string): T | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new WireError(`${what}: field "${key}" must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function strArray(o: Record<string, unknown>, key: string, what: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new WireError(`${what}: field "${key}" must be an array of strings`);
  }
  return v as string[];
}

export function obj(o: Record<string, unknown>, key: string, what: string): Record<string, unknown> {
  const v = o[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError(`${what}: field "${key}" must be an object`);
  return v as Record<string, unknown>;
}

export function mode(v: unknown, what: string): ProbeMode {
  if (typeof v !== 'string' || !(PROBE_MODES as readonly string[]).includes(v)) {
    throw new WireError(`${what}: mode must be one of ${PROBE_MODES.join(', ')}`);
  }
  return v as ProbeMode;
}

export function bool(o: Record<string, unknown>, key: string, what: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new WireError(`${what}: field "${key}" must be true or false`);
  return v;
}

export function parseFrames(v: unknown, what: string): StackFrame[] {
  if (!Array.isArray(v)) throw new WireError(`${what}: field "stack" must be an array`);
  if (v.length > MAX_STACK_FRAMES) throw new WireLimitError(`${what}: stack has ${v.length} frames, more than the limit of ${MAX_STACK_FRAMES}`);
  return v.map((f: unknown, i) => {
    if (typeof f !== 'object' || f === null) throw new WireError(`${what}: stack frame ${i} is not an object`);
    const o = f as Record<string, unknown>;
    const w = `${what}.stack[${i}]`;
    return {
      functionName: nameField(o, 'functionName', w),
      url: nameField(o, 'url', w),
      lineNumber: num(o, 'lineNumber', w),
      columnNumber: num(o, 'columnNumber', w),
    };
  });
}

export function sparse(v: unknown, what: string): [number, number][] {
  if (!Array.isArray(v)) throw new WireError(`${what} must be an array`);
  if (v.length > LOG_BUCKETS) throw new WireLimitError(`${what} has ${v.length} buckets, more than the ${LOG_BUCKETS} there are`);
  return v.map((pair: unknown) => {
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
      throw new WireError(`${what} must hold [bucket, count] pairs of non-negative numbers`);
    }
    // Merged histograms are keyed by bucket: any other key would grow them without bound.
    if (!Number.isInteger(pair[0]) || (pair[0] as number) >= LOG_BUCKETS) throw new WireError(`${what} has a bucket ${String(pair[0])} that does not exist`);
    return [pair[0] as number, pair[1] as number];
  });
}

export function arrayOf<T>(v: unknown, what: string, max: number, each: (o: Record<string, unknown>, w: string) => T): T[] {
  if (!Array.isArray(v)) throw new WireError(`${what} must be an array`);
  if (v.length > max) throw new WireLimitError(`${what} has ${v.length} entries, more than the limit of ${max}`);
  return v.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new WireError(`${what}[${i}] must be an object`);
    return each(item as Record<string, unknown>, `${what}[${i}]`);
  });
}
