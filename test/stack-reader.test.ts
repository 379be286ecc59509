// The reader the probe leaves on the main thread's global object, which the watchdog's
// Runtime.evaluate calls during a block (the evaluation itself is tested end to end in
// probe.test.ts). Here, in this process: what it returns, and what it leaves behind.

import { describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { installStackReader, STACK_READER_KEY, type RawStack } from '../probe/stack-here';

const key = Symbol.for(STACK_READER_KEY);
const reader = (): (() => RawStack) | undefined => (globalThis as Record<symbol, (() => RawStack) | undefined>)[key];

function blockingCaller(): RawStack {
  return reader()!();
}

describe('the stack reader', () => {
  it('returns its caller\'s stack, without its own frame, and restores what it touched', () => {
    const remove = installStackReader();
    try {
      const prepare = Error.prepareStackTrace;
      const limit = Error.stackTraceLimit;
      const before = performance.now();
      const { atMs, frames } = blockingCaller();
      // When it ran, on this thread's clock: the watchdog tells a stack taken after the block by it.
      expect(atMs).toBeGreaterThanOrEqual(before);
      expect(atMs).toBeLessThanOrEqual(performance.now());
      // vitest compiles this file, so its lines move a little: the frame's line is near this one's.
      const [name, url, line, column] = frames[0]!;
      expect([name, url]).toEqual(['blockingCaller', __filename]);
      expect(line).toBeGreaterThanOrEqual(9);
      expect(line).toBeLessThanOrEqual(13);
      expect(column).toBeGreaterThan(0);
      expect(frames.length).toBeGreaterThan(1);
      expect(Error.prepareStackTrace).toBe(prepare);
      expect(Error.stackTraceLimit).toBe(limit);
      // There for the evaluation, out of the way of the target's own code: a spread of globalThis leaves it.
      expect(Object.getOwnPropertySymbols(globalThis)).toContain(key);
      expect(Object.getOwnPropertyDescriptor(globalThis, key)?.enumerable).toBe(false);
      expect(key in { ...globalThis }).toBe(false);
    } finally {
      remove();
    }
    expect(reader()).toBeUndefined();
  });

  it('leaves a reader that is not its own in place', () => {
    const removeFirst = installStackReader();
    const removeSecond = installStackReader();
    removeFirst();
    expect(reader()).toBeTypeOf('function');
    removeSecond();
    expect(reader()).toBeUndefined();
  });
});
