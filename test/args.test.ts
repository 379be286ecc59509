import { describe, expect, it } from 'vitest';
import { describeOptions, parseArgs, UsageError, type OptionSpec } from '../main/cli/args';
import { loopscope } from './helpers/cli';
import type { Summary } from '../main/reports/summary';

const specs: OptionSpec[] = [
  { name: 'mode', kind: 'string', choices: ['a', 'b'], description: 'm' },
  { name: 'interval', kind: 'number', min: 10, description: 'i' },
  { name: 'json', kind: 'flag', description: 'j' },
  { name: 'help', short: 'h', kind: 'flag', description: 'h' },
];

describe('argument parsing', () => {
  it('parses options, values and the command after --', () => {
    expect(parseArgs(['--mode', 'a', '--interval=20', '--json', '--', 'node', '--json'], specs)).toEqual({
      options: { mode: 'a', interval: 20, json: true }, positionals: [], rest: ['node', '--json'],
    });
  });

  it('stops at the first positional when asked, leaving the command\'s own options alone', () => {
    expect(parseArgs(['-h', 'node', 'app.js', '--interval', 'x'], specs, true).rest).toEqual(['node', 'app.js', '--interval', 'x']);
  });

  it.each([
    [['--nope'], /unknown option --nope/],
    [['--int', '5'], /unknown option --int \(did you mean --interval\?\)/],
    [['--interval'], /--interval needs a value/],
    [['--interval', '--json'], /--interval needs a value/],
    [['--interval', '5'], /at least 10/],
    [['--interval', ''], /must be a number/],
    [['--mode', 'c'], /one of a, b/],
    [['--mode', ''], /^--mode needs a value, not an empty one: --mode <string>$/],
    [['--mode='], /^--mode needs a value, not an empty one/],
    [['--json=yes'], /takes no value/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv, specs)).toThrow(UsageError);
    expect(() => parseArgs(argv, specs)).toThrow(message);
  });

  it('describes options in aligned columns', () => {
    const text = describeOptions(specs);
    expect(text.split('\n')[0]).toMatch(/^ {6}--mode <string> +m$/);
    expect(text).toContain('-h, --help');
  });
});

describe('run --duration', () => {
  // A longer timer fires at once in Node: the program was stopped 10 ms after its start.
  it('is at most what a timer can wait, 24.8 days', async () => {
    const r = await loopscope(['run', '--json', '--duration', '3000000', '--', process.execPath, '-e', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^loopscope run: --duration must be at most 2147483, got 3000000\n/);
  });
});

describe('run and attach --record', () => {
  // An empty path got "cannot record to : no such file or folder" (exit 73), naming no option.
  it.each([
    [['run', '--record', '', '--json', '--', process.execPath, '-e', '0'], 'run'],
    [['attach', '2147483646', '--record='], 'attach'],
  ])('is not empty: %j', async (args, command) => {
    const r = await loopscope(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`loopscope ${command}: --record needs a value, not an empty one: --record <file>\nSee loopscope ${command} --help.\n`);
  });
});

describe('run and attach --promises', () => {
  // Without a mode that tracks tasks it was silently ignored.
  it.each([
    [['run', '--promises', '--json', '--', process.execPath, '-e', '0'], 'run'],
    [['attach', '2147483646', '--mode', 'metrics', '--promises'], 'attach'],
  ])('is refused in metrics mode: %j', async (args, command) => {
    const r = await loopscope(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`loopscope ${command}: --promises applies to tasks and trace modes: add --mode tasks or --mode trace, or leave --promises out\nSee loopscope ${command} --help.\n`);
  });

  it('tracks promises in tasks mode, as before', async () => {
    const r = await loopscope(['run', '--mode', 'tasks', '--promises', '--json', '--', process.execPath, '-e', 'setTimeout(() => {}, 300)']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Summary).tasks?.promisesTracked).toBe(true);
  });
});

describe('serve --port', () => {
  // Node's own range text came through for 1.5, exit 70.
  it('is a whole number', async () => {
    const r = await loopscope(['serve', '--port', '1.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^loopscope serve: --port must be a whole number, got 1\.5\n/);
  });
});
