// How tasks and trace modes' hook leaves promises alone. Before Node 24.14, enabling any async
// hook makes Node install its own promise hooks: JavaScript on every promise event, and a weak
// callback per promise when any hook has `destroy`, whatever the hook asks for. On
// promise-heavy code that is most of what the modes cost. So the probe uses the cheapest sound
// way the running Node offers, each found by a feature test (never by the version number),
// once per process:
//
//   trackPromises   createHook({ trackPromises: false }) (Node 24.14 and later).
//   kNoPromiseHook  the flag that option sets, set on our own hook before enable(), where the
//                   option is not public yet (Node 22.15 and later, 24.0 to 24.13).
//   inspector       Node 18, 20, 22.0 to 22.14: Node's own internals, reached once through an
//                   inspector session on this thread (the [[Scopes]] of its functions), and
//                   Node's promise hook taken out of V8 the way Node's own stopPromiseHook()
//                   does it, from a microtask (never synchronously: inside a promise job that
//                   aborts Node).
//   none            none of these: Node tracks promises for our hook; the views say what that costs.
//
// The app's own hooks come and go (AsyncLocalStorage is one on Node < 24, an APM agent another),
// and Node rebuilds its promise hook each time, counting our `destroy`. shed(), at each
// interval, makes Node rebuild it as if our hook were not there: without per-promise
// destruction tracking for us, and not at all once no other hook wants it. Nothing here prints.

import { createHook, type AsyncHook, type HookCallbacks } from 'node:async_hooks';
import type { PromiseSkipping } from './wire';


export interface ProbeHook {
  /** How promises are left out; undefined when they are tracked, as asked. */
  readonly skipping: PromiseSkipping | undefined;
  enable(): void;
  disable(): void;
  /** At each interval, from a timer's callback (never inside a promise job). */
  shed(): void;
}

/** The callbacks Node keeps on every AsyncHook, under symbols with these descriptions. */
const CALLBACK_NAMES = ['init', 'before', 'after', 'destroy', 'promiseResolve'] as const;

function ownSymbol(o: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(o).find((s) => s.description === description);
}

type Flagged = Record<symbol, unknown>;

/** Whether a hook made with `options` (and `prepare`d) sees no promise: enabled for one promise. */
function skipsPromises(options: object, prepare: (hook: AsyncHook) => void = () => undefined): boolean {
  let saw = false;
  const probe = createHook({ init: (_id: number, type: string) => { if (type === 'PROMISE') saw = true; }, ...options } as HookCallbacks);
  prepare(probe);
  probe.enable();
  void Promise.resolve().then(() => undefined);
  probe.disable();
  return !saw;
}

/** Node 22.15+, 24.0+: the internal flag, on our own instance, before enable(). */
function flag(hook: AsyncHook): void {
  const s = ownSymbol(hook, 'kNoPromiseHook');
  if (s === undefined || (hook as unknown as Flagged)[s] !== false) throw new Error('no kNoPromiseHook flag on this Node');
  (hook as unknown as Flagged)[s] = true;
}

function canFlag(): boolean {
  try {
    const fresh = createHook({});
    const s = ownSymbol(fresh, 'kNoPromiseHook');
    return s !== undefined && (fresh as unknown as Flagged)[s] === false && skipsPromises({}, flag);
  } catch {
    return false;
  }
}

function hasInspector(): boolean {
  try {
    require('node:inspector');
    return true;
  } catch {
    return false;
  }
}

/**
 * Has Node rebuild its promise hook for the hooks enabled now, ours off meanwhile: without
 * our `destroy` counted, or not at all when no hook wants it (Node's own clean-up then removes
 * it, from a microtask). A throwaway hook enabled and disabled makes Node do so. Public API only.
 */
const rebuilder = createHook({ init() {} });
function rebuildWithoutOurs(ours: AsyncHook): void {
  ours.disable();
  rebuilder.enable();
  rebuilder.disable();
}

// ---------------------------------------------------------------------------------------------
// inspector: Node's internals, read once.

interface NodeInternals {
  readonly activeHooks: { readonly array: object[]; readonly tmp_array: object[] | null };
  readonly lists: Readonly<Record<'init' | 'before' | 'after' | 'settled', unknown[]>>;
  readonly update: () => void;
  readonly enqueueMicrotask: (fn: () => void) => void;
  readonly fields: Uint32Array;
  readonly kInit: number;
  readonly kDestroy: number;
  readonly updatePromiseHookMode: () => void;
  readonly kNoPromiseHook: symbol | undefined;
  /** Node's own promise hook functions (async_hooks' side of the lists). */
  readonly nodeFns: ReadonlySet<unknown>;
  /** Those of them that track each promise's destruction. */
  readonly tracking: readonly unknown[];
}

const NODE_FNS = ['promiseInitHook', 'promiseInitHookWithDestroyTracking', 'destroyTracking', 'promiseBeforeHook', 'promiseAfterHook', 'promiseResolveHook'] as const;

interface RemoteObject { readonly objectId?: string; readonly value?: unknown; readonly description?: string }
interface PropertyDescriptor { readonly name: string; readonly value?: RemoteObject }
interface Properties { readonly result: PropertyDescriptor[]; readonly internalProperties?: PropertyDescriptor[] }

/**
 * Reads Node's internals through an inspector session on this thread: posts on a same-thread
 * session are answered before post() returns. Only the Runtime domain: no debugger is enabled,
 * nothing pauses, no port is opened. Every value is checked for its shape; undefined on any miss.
 */
function readInternals(): NodeInternals | undefined {
  let inspector: typeof import('node:inspector');
  try {
    inspector = require('node:inspector') as typeof import('node:inspector');
  } catch {
    return undefined;
  }
  const session = new inspector.Session();
  const KEY = Symbol.for('loopscope.probe.internals');
  const got: Record<string, unknown> = {};
  const global = globalThis as unknown as Record<symbol, unknown>;
  try {
    session.connect();
    const post = <T>(method: string, params: object): T => {
      let answer: { error: Error | null; result: T } | undefined;
      (session.post as (m: string, p: object, cb: (e: Error | null, r: T) => void) => void)(method, params, (error, result) => { answer = { error, result }; });
      if (!answer) throw new Error(`${method} was not answered at once`);
      if (answer.error) throw answer.error;
      return answer.result;
    };
    global[KEY] = {
      enable: createHook({}).enable,
      promiseHooksCreate: (require('node:v8') as typeof import('node:v8')).promiseHooks?.createHook,
      take: (name: string, value: unknown) => { got[name] = value; },
    };
    const holder = post<{ result: RemoteObject }>('Runtime.evaluate', { expression: `globalThis[Symbol.for(${JSON.stringify(KEY.description)})]`, silent: true }).result.objectId;
    if (holder === undefined) return undefined;
    const propsOf = (objectId: string): Properties => post<Properties>('Runtime.getProperties', { objectId, ownProperties: true });
    const member = (objectId: string, name: string): string => {
      const id = propsOf(objectId).result.find((p) => p.name === name)?.value?.objectId;
      if (id === undefined) throw new Error(`no ${name}`);
      return id;
    };
    /** The variables of a function's closure scope: here, its module's top level. */
    const closureOf = (fnObjectId: string | undefined): Map<string, RemoteObject | undefined> => {
      if (fnObjectId === undefined) throw new Error('no function');
      const scopes = propsOf(fnObjectId).internalProperties?.find((p) => p.name === '[[Scopes]]')?.value?.objectId;
      if (scopes === undefined) throw new Error('no [[Scopes]]');
      const closure = propsOf(scopes).result.find((s) => s.value?.description === 'Closure')?.value?.objectId;
      if (closure === undefined) throw new Error('no closure scope');
      return new Map(propsOf(closure).result.map((v) => [v.name, v.value]));
    };
    const hand = (name: string, remote: RemoteObject | undefined): void => {
      if (remote?.objectId === undefined) throw new Error(`${name} not found`);
      post('Runtime.callFunctionOn', { objectId: holder, functionDeclaration: 'function (n, v) { this.take(n, v); }', arguments: [{ value: name }, { objectId: remote.objectId }], silent: true });
    };
    const asyncHooksVars = closureOf(member(holder, 'enable')); // lib/async_hooks.js
    const internalVars = closureOf(asyncHooksVars.get('updatePromiseHookMode')?.objectId); // lib/internal/async_hooks.js
    const promiseHooksVars = closureOf(member(holder, 'promiseHooksCreate')); // lib/internal/promise_hooks.js
    hand('activeHooks', internalVars.get('active_hooks'));
    hand('fields', internalVars.get('async_hook_fields'));
    hand('updatePromiseHookMode', asyncHooksVars.get('updatePromiseHookMode'));
    hand('enqueueMicrotask', internalVars.get('enqueueMicrotask'));
    for (const n of NODE_FNS) hand(n, internalVars.get(n));
    hand('lists', promiseHooksVars.get('hooks'));
    hand('update', promiseHooksVars.get('update'));
    if (asyncHooksVars.get('kNoPromiseHook')?.objectId !== undefined) hand('kNoPromiseHook', asyncHooksVars.get('kNoPromiseHook'));
    got['kInit'] = internalVars.get('kInit')?.value;
    got['kDestroy'] = internalVars.get('kDestroy')?.value;
  } catch {
    return undefined;
  } finally {
    delete global[KEY];
    try {
      session.disconnect();
    } catch {
      // never connected
    }
  }
  return checkInternals(got);
}

/** The internals as read, if each has the shape this code relies on. */
function checkInternals(got: Record<string, unknown>): NodeInternals | undefined {
  const isFn = (v: unknown): v is (...a: unknown[]) => unknown => typeof v === 'function';
  const activeHooks = got['activeHooks'] as NodeInternals['activeHooks'] | undefined;
  const lists = got['lists'] as NodeInternals['lists'] | undefined;
  const { fields, kInit, kDestroy, update, enqueueMicrotask, updatePromiseHookMode, kNoPromiseHook } = got;
  if (!activeHooks || !Array.isArray(activeHooks.array)) return undefined;
  if (!lists || !(['init', 'before', 'after', 'settled'] as const).every((k) => Array.isArray(lists[k]))) return undefined;
  if (!(fields instanceof Uint32Array) || typeof kInit !== 'number' || typeof kDestroy !== 'number' || kInit >= fields.length || kDestroy >= fields.length) return undefined;
  if (!isFn(update) || !isFn(enqueueMicrotask) || !isFn(updatePromiseHookMode)) return undefined;
  if (kNoPromiseHook !== undefined && typeof kNoPromiseHook !== 'symbol') return undefined;
  if (!NODE_FNS.every((n) => isFn(got[n]) && got[n].name === n)) return undefined;
  return {
    activeHooks, lists, fields, kInit, kDestroy, kNoPromiseHook,
    update: update as () => void,
    enqueueMicrotask: enqueueMicrotask as (fn: () => void) => void,
    updatePromiseHookMode: updatePromiseHookMode as () => void,
    nodeFns: new Set(NODE_FNS.map((n) => got[n])),
    tracking: [got['promiseInitHookWithDestroyTracking'], got['destroyTracking']],
  };
}

function hasCallback(hook: object, name: string): boolean {
  const s = ownSymbol(hook, name);
  return s !== undefined && typeof (hook as Flagged)[s] === 'function';
}

/**
 * Node's promise hook as it would be without ours: taken out of V8 when no other enabled hook
 * wants promises (what Node's own stopPromiseHook() does: Node's functions out of its lists,
 * then update(); any promise hooks of the app's own through v8.promiseHooks stay), else rebuilt
 * by Node with our init and destroy left out of its counts. Runs from a microtask.
 */
function shedWithInternals(n: NodeInternals, ours: AsyncHook): void {
  if (!n.activeHooks.array.includes(ours)) return;
  const wantsPromises = (h: object): boolean =>
    h !== ours && !(n.kNoPromiseHook !== undefined && (h as Flagged)[n.kNoPromiseHook] === true) && CALLBACK_NAMES.some((c) => hasCallback(h, c));
  if (n.activeHooks.array.some(wantsPromises) || (n.activeHooks.tmp_array ?? []).some(wantsPromises)) {
    // Only worth it while Node tracks destruction for our destroy alone.
    if (n.fields[n.kDestroy] !== 1 || !n.tracking.some((f) => n.lists.init.includes(f))) return;
    const ourInit = hasCallback(ours, 'init') ? 1 : 0;
    n.fields[n.kDestroy]! -= 1;
    n.fields[n.kInit]! -= ourInit;
    try {
      n.updatePromiseHookMode();
    } finally {
      n.fields[n.kDestroy]! += 1;
      n.fields[n.kInit]! += ourInit;
    }
    return;
  }
  let removed = 0;
  for (const list of [n.lists.init, n.lists.before, n.lists.after, n.lists.settled]) {
    for (let i = list.length - 1; i >= 0; i--) {
      if (n.nodeFns.has(list[i])) {
        list.splice(i, 1);
        removed++;
      }
    }
  }
  if (removed > 0) n.update();
}

// ---------------------------------------------------------------------------------------------

interface Mechanism {
  readonly name: PromiseSkipping;
  make(callbacks: HookCallbacks): AsyncHook;
  shed(hook: AsyncHook): void;
}

const reshape = (hook: AsyncHook): void => {
  rebuildWithoutOurs(hook);
  hook.enable();
};

const NATIVE: Mechanism = { name: 'trackPromises', make: (cb) => createHook({ ...cb, trackPromises: false } as HookCallbacks), shed: reshape };
const FLAG: Mechanism = {
  name: 'kNoPromiseHook',
  make(cb) {
    const hook = createHook(cb);
    flag(hook);
    return hook;
  },
  shed: reshape,
};
const NONE: Mechanism = { name: 'none', make: (cb) => createHook(cb), shed: () => undefined };

/** Node's internals, read at the first shed (a timer's callback: never inside another session's evaluation), then kept. */
let internals: NodeInternals | undefined | null;
const INSPECTOR: Mechanism = {
  name: 'inspector',
  make: (cb) => createHook(cb),
  shed(hook) {
    if (internals === undefined) internals = readInternals() ?? null;
    const n = internals;
    if (n === null) return;
    n.enqueueMicrotask(() => {
      try {
        shedWithInternals(n, hook);
      } catch {
        // Never throw into the target.
      }
    });
  },
};

let chosen: Mechanism | undefined;
function mechanism(): Mechanism {
  if (chosen) return chosen;
  if (skipsPromises({ trackPromises: false })) chosen = NATIVE;
  else if (canFlag()) chosen = FLAG;
  else if (hasInspector()) chosen = INSPECTOR;
  else chosen = NONE;
  return chosen;
}

/**
 * Our hook with `callbacks`. With `trackPromises` it sees promises as Node gives them; without,
 * it leaves them out by the mechanism found for this process.
 */
export function createProbeHook(callbacks: HookCallbacks, trackPromises: boolean): ProbeHook {
  const m = trackPromises ? undefined : mechanism();
  const hook = m ? m.make(callbacks) : createHook(callbacks);
  let on = false;
  return {
    get skipping() {
      return m ? (m === INSPECTOR && internals === null ? 'none' : m.name) : undefined;
    },
    enable() {
      on = true;
      hook.enable();
    },
    disable() {
      on = false;
      // Node's promise hook as the app's own hooks want it, as if ours had never been on.
      rebuildWithoutOurs(hook);
    },
    shed() {
      if (on && m) m.shed(hook);
    },
  };
}
