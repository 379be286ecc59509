// trace mode: the name of the function a resource will call, where Node keeps it on the
// resource (timers, immediates, nextTicks), so the timeline can say which function ran, not
// only "Timeout". Read in the init hook: a property read and a Map lookup. Names are numbered
// as they first come, up to a bound; past it (or for an anonymous function) a resource has none.

import { clipName } from './wire';

const MAX_NAMES = 4096;

/** Where Node keeps the callback, by resource type. */
const CALLBACK_FIELDS: ReadonlyMap<string, string> = new Map([['Timeout', '_onTimeout'], ['Immediate', '_onImmediate'], ['TickObject', 'callback']]);

export function callbackField(type: string): string | undefined {
  return CALLBACK_FIELDS.get(type);
}

export class CallbackNames {
  /** By number; 0 is "no name". */
  readonly names: string[] = [''];
  private readonly numbers = new Map<string, number>();

  /** The number of the name of the function in `resource[field]`; 0 when it has none. */
  numberOf(resource: unknown, field: string): number {
    const fn = (resource as Record<string, unknown> | null)?.[field];
    if (typeof fn !== 'function') return 0;
    const name: unknown = fn.name;
    if (typeof name !== 'string' || name === '') return 0;
    let n = this.numbers.get(name);
    if (n === undefined) {
      if (this.names.length >= MAX_NAMES) return 0;
      n = this.names.length;
      this.names.push(clipName(name));
      this.numbers.set(name, n);
    }
    return n;
  }
}
