// `loopscope attach --mode tasks` on a real target whose largest fan-out comes from a callback of
// a resource made before the attach: an interval's timer, which Node re-arms without a new
// async resource, so the probe never sees it made and cannot know its type. The JSON summary
// says so as the text does, in the same words, instead of an empty type.

import { afterEach, describe, expect, it } from 'vitest';
import type { Summary } from '../main/reports/summary';
import { killAll, loopscope, startTarget } from './helpers/attach-harness';

afterEach(killAll);

const FAN_OUT = 40;

describe('loopscope attach --mode tasks', () => {
  it('says why the largest fan-out\'s type is unknown, in the JSON as in the text', async () => {
    const target = await startTarget('attach-app.js', { env: { FAN_OUT: String(FAN_OUT), PERIOD_MS: '100' } });
    const json = await loopscope(['attach', String(target.pid), '--mode', 'tasks', '--duration', '2', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const fanOut = (JSON.parse(json.stdout) as Summary).tasks!.fanOut;
    // Each tick's FAN_OUT immediates; nothing else in the target starts as many at once.
    expect(fanOut.max).toBe(FAN_OUT);
    expect(fanOut.maxType).toBeNull();
    expect(fanOut.maxTypeReason).toBe('its resource was made before tasks mode came on, or was not tracked');

    const text = await loopscope(['attach', String(target.pid), '--mode', 'tasks', '--duration', '2']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`  fan-out      one callback of unknown type (${fanOut.maxTypeReason}) created ${FAN_OUT} resources`);
  });
});
