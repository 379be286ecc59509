// loopscope's inspector client against a real target's inspector: a connection it closes with
// an answer still due must not crash the target. Node 20's inspector does (SIGSEGV) when the
// answer and the end of the connection reach its I/O thread together: here, within a few to a
// few dozen tries of sending and closing at once (see CdpClient.close).

import { afterEach, describe, expect, it } from 'vitest';
import { CdpClient } from '../main/attach/inspector-client';
import { exitHoldsSettled } from '../main/system/exit-holds';
import { eventually, killAll, sleep, startTarget } from './helpers/attach-harness';

afterEach(killAll);

const TRIES = 300;

describe('the inspector client', () => {
  it('does not end a connection before the target has answered on it, which would crash the target', async () => {
    const target = await startTarget('attach-app.js', { nodeArgs: ['--inspect=127.0.0.1:0'] });
    expect(await eventually(() => /ws:\/\/\S+/.test(target.stderr()), 5000)).toBe(true);
    const url = /ws:\/\/\S+/.exec(target.stderr())![0];
    let tries = 0;
    for (; tries < TRIES && target.alive(); tries++) {
      const client = await CdpClient.connect(url, 5000).catch(() => undefined); // refused: it died
      if (!client) break;
      client.sendLastAndClose('Runtime.evaluate', { expression: 'process.pid' });
      await sleep(2);
    }
    await sleep(300);
    const died = await Promise.race([target.exit, sleep(0)]);
    expect(died, `the target died after ${tries} tries`).toBeUndefined();
    expect(tries).toBe(TRIES);
  }, 60_000);

  it('holds the command\'s exit until the answer it waits for has come', async () => {
    const target = await startTarget('attach-app.js', { nodeArgs: ['--inspect=127.0.0.1:0'] });
    expect(await eventually(() => /ws:\/\/\S+/.test(target.stderr()), 5000)).toBe(true);
    const client = await CdpClient.connect(/ws:\/\/\S+/.exec(target.stderr())![0], 5000);
    const sent = performance.now();
    client.sendLastAndClose('Runtime.evaluate', { expression: 'const end = Date.now() + 800; while (Date.now() < end);' });
    expect(client.closed).toBe(true); // for its callers, at once
    await exitHoldsSettled();
    expect(performance.now() - sent).toBeGreaterThan(700);
    await sleep(200);
    expect(target.alive()).toBe(true);
  }, 30_000);
});
