// Command-line parsing: pure, with errors that say what was wrong and what to do.

export type OptionKind = 'flag' | 'string' | 'number';

export interface OptionSpec {
  readonly name: string;
  readonly kind: OptionKind;
  readonly short?: string;
  readonly valueName?: string;
  readonly description: string;
  /** For numbers: the accepted range, inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** For numbers: a whole number only (a port). */
  readonly integer?: boolean;
  /** For strings: the accepted values. */
  readonly choices?: readonly string[];
}

export type OptionValues = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Parsed {
  readonly options: OptionValues;
  readonly positionals: readonly string[];
  /** Everything after `--`, untouched. */
  readonly rest: readonly string[] | undefined;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * `stopAtPositional`: the first positional and everything after it is the rest, as for
 * `loopscope run node app.js --port 3000`, where the options after `node` are the app's.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], stopAtPositional = false): Parsed {
  const options: Record<string, string | number | boolean | undefined> = {};
  const positionals: string[] = [];
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return { options, positionals, rest: argv.slice(i + 1) };
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown option --${name}${suggest(name, specs)}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      spec = byShort.get(arg.slice(1));
      if (!spec) throw new UsageError(`unknown option ${arg}`);
    } else {
      if (stopAtPositional) return { options, positionals, rest: argv.slice(i) };
      positionals.push(arg);
      continue;
    }
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`--${spec.name} takes no value`);
      options[spec.name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw new UsageError(`--${spec.name} needs a value: --${spec.name} <${spec.valueName ?? spec.kind}>`);
    }
    options[spec.name] = convert(spec, value);
  }
  return { options, positionals, rest: undefined };
}

function convert(spec: OptionSpec, value: string): string | number {
  if (spec.kind === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${spec.name} must be a number, got "${value}"`);
    if (spec.integer && !Number.isInteger(n)) throw new UsageError(`--${spec.name} must be a whole number, got ${n}`);
    if (spec.min !== undefined && n < spec.min) throw new UsageError(`--${spec.name} must be at least ${spec.min}, got ${n}`);
    if (spec.max !== undefined && n > spec.max) throw new UsageError(`--${spec.name} must be at most ${spec.max}, got ${n}`);
    return n;
  }
  // No option takes an empty string: --record "" got "cannot record to : no such file".
  if (value === '') throw new UsageError(`--${spec.name} needs a value, not an empty one: --${spec.name} <${spec.valueName ?? spec.kind}>`);
  if (spec.choices && !spec.choices.includes(value)) {
    throw new UsageError(`--${spec.name} must be one of ${spec.choices.join(', ')}, got "${value}"`);
  }
  return value;
}

function suggest(name: string, specs: readonly OptionSpec[]): string {
  const close = specs.find((s) => s.name.startsWith(name) || name.startsWith(s.name));
  return close ? ` (did you mean --${close.name}?)` : '';
}

/** Help text for a list of options, aligned. */
export function describeOptions(specs: readonly OptionSpec[]): string {
  const heads = specs.map((s) => {
    const short = s.short ? `-${s.short}, ` : '    ';
    const value = s.kind === 'flag' ? '' : ` <${s.valueName ?? s.kind}>`;
    return `  ${short}--${s.name}${value}`;
  });
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return specs.map((s, i) => heads[i]!.padEnd(width) + s.description).join('\n');
}
