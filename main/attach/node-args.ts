// What a Node process's command line and NODE_OPTIONS say about its inspector, read from
// outside. Pure. The command line may have been overwritten by `process.title`, so what this
// finds is a hint: attach confirms it on the process's real sockets.

export const DEFAULT_INSPECTOR_HOST = '127.0.0.1';
export const DEFAULT_INSPECTOR_PORT = 9229;

export interface InspectorSettings {
  /** Where SIGUSR1 opens the inspector (or where --inspect already opened it). */
  readonly host: string;
  /** 0: a port chosen by the system. */
  readonly port: number;
  /** Started with --inspect, --inspect-brk or --inspect-wait: the inspector opened at startup. */
  readonly openAtStart: boolean;
  /** --disable-sigusr1: SIGUSR1 does not open the inspector (Node 22.14+, 23.7+). */
  readonly sigusr1Disabled: boolean;
  /** --permission / --experimental-permission: the permission model turns the inspector off. */
  readonly permissionModel: boolean;
}

/** Node options that take their value as the next argument. */
const TAKES_VALUE = new Set([
  '-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions',
  '--inspect-port', '--debug-port', '--title', '--env-file', '--input-type', '--disable-warning',
]);
/** Options after which the rest of the command line is the program's own. */
const ENDS_OPTIONS = new Set(['-e', '--eval', '-p', '--print']);

/** The Node options of a command line: what comes after the executable and before the script. */
export function nodeOptionsOfArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break;
    out.push(arg);
    if (ENDS_OPTIONS.has(arg)) break;
    if (TAKES_VALUE.has(arg) && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}

/** Splits NODE_OPTIONS as Node does: on spaces, with double quotes and backslash escapes. */
export function splitNodeOptions(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && quoted && i + 1 < value.length) {
      current += value[++i];
      inToken = true;
    } else if (c === '"') {
      quoted = !quoted;
      inToken = true;
    } else if (c === ' ' && !quoted) {
      if (inToken) out.push(current);
      current = '';
      inToken = false;
    } else {
      current += c;
      inToken = true;
    }
  }
  if (inToken) out.push(current);
  return out;
}

/** `[host:]port`, as --inspect and --inspect-port take it. */
export function parseHostPort(value: string): { host?: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) return { host: bracketed[1]!, ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  if (/^\d+$/.test(value)) return { port: Number(value) };
  const colon = value.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(value.slice(colon + 1)) && value.indexOf(':') === colon) {
    return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) };
  }
  return value ? { host: value } : {};
}

/** Whether an inspector host listens on this machine alone: a name may resolve anywhere, so only localhost counts. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^(0{0,4}:){2,7}0{0,3}1$/.test(host);
}

/**
 * The inspector settings of a process from its NODE_OPTIONS and its command-line options;
 * the command line comes second, as in Node, so it wins.
 */
export function inspectorSettings(nodeOptions: readonly string[], execArgv: readonly string[]): InspectorSettings {
  let host = DEFAULT_INSPECTOR_HOST;
  let port = DEFAULT_INSPECTOR_PORT;
  let openAtStart = false;
  let sigusr1Disabled = false;
  let permissionModel = false;
  const tokens = [...nodeOptions, ...execArgv];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const eq = token.indexOf('=');
    const name = eq === -1 ? token : token.slice(0, eq);
    let value = eq === -1 ? undefined : token.slice(eq + 1);
    switch (name) {
      case '--inspect':
      case '--inspect-brk':
      case '--inspect-wait':
        openAtStart = true;
        break;
      case '--inspect-port':
      case '--debug-port':
        value ??= tokens[++i];
        break;
      case '--disable-sigusr1':
        sigusr1Disabled = true;
        continue;
      case '--permission':
      case '--experimental-permission':
        permissionModel = true;
        continue;
      default:
        continue;
    }
    if (value === undefined) continue;
    const hp = parseHostPort(value);
    if (hp.host !== undefined) host = hp.host;
    if (hp.port !== undefined) port = hp.port;
  }
  return { host, port, openAtStart, sigusr1Disabled, permissionModel };
}

/**
 * Whether an executable is Node, by the name of the file the process runs (its real
 * executable, never the process name, which `process.title` changes).
 */
export function isNodeExecutable(exePath: string): boolean {
  const base = exePath.split(/[\\/]/).pop() ?? '';
  return /^(node|nodejs)(\d+(\.\d+)*)?(\.exe)?$/i.test(base);
}

export interface NodeVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly text: string;
}

/** `v20.11.1` (what `node --version` prints) → its parts, or undefined. */
export function parseNodeVersion(text: string): NodeVersion | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)\S*$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: text.trim() };
}
