// Where a growing promise type's resources were made, in a real target under tasks mode with
// --promises: a fan-out that never ends (test/fixtures/promise-fanout.js), the same promises
// in the same order on each request among other busy types. The sampling once left every
// stack on a promise that resolved, and none of the type's sites was ever sent.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runProbed } from './helpers/probe-harness';
import type { CreationSite, ProbeMessage } from '../probe/wire';

const FIXTURE = join(FIXTURES, 'promise-fanout.js');

/** The 1-based line of the fixture that holds `marker`. */
function lineOf(marker: string): number {
  return readFileSync(FIXTURE, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;
}

/** The promise sites of each tasks sample, in order. */
function promiseSites(messages: readonly ProbeMessage[]): CreationSite[][] {
  return messages.flatMap((m) => (m.type === 'tasks' ? [m.sample.liveSites.filter((s) => s.type === 'PROMISE')] : []));
}

describe('creation sites of a growing promise type', () => {
  it('names the fixture\'s fetchShard or Promise.all line within a few seconds of the leak', async () => {
    const run = await runProbed('promise-fanout.js', { RUN_MS: '4000' }, { mode: 'tasks', promises: true, intervalMs: 100 });
    await run.exit;
    await run.closed;
    await run.server.close();
    const alive = run.state().tasks.byType['PROMISE']?.alive ?? 0;
    expect(alive, 'the fixture\'s promises to pile up').toBeGreaterThan(2000);
    const sites = promiseSites(run.messages).flat();
    expect(sites.length, 'a PROMISE creation site in some sample').toBeGreaterThan(0);
    const userLines = new Set(sites.flatMap((s) => s.stack.filter((f) => f.url.endsWith('promise-fanout.js')).map((f) => f.lineNumber)));
    const wanted = [lineOf('FETCH_SHARD_LINE'), lineOf('PROMISE_ALL_LINE')];
    expect([...userLines].filter((l) => wanted.includes(l)), `lines found: ${[...userLines].join(', ')}`).not.toHaveLength(0);
    expect(run.state().tasks.liveSites.some((s) => s.type === 'PROMISE'), 'the session\'s last sites to keep a PROMISE one').toBe(true);
  });
});
