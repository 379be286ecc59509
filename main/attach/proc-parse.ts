// Parsers for the Linux /proc text formats loopscope reads to look at a process from
// outside. Pure: text in, data out, so every format is tested on captured samples.

export interface ProcStatus {
  /** The kernel's short name (comm); `process.title` can change it, so it identifies nothing. */
  readonly name: string;
  /** One letter: R running, S sleeping, D disk wait, T stopped, t traced, Z zombie, X dead. */
  readonly state: string;
  readonly ppid: number;
  readonly realUid: number;
  readonly effectiveUid: number;
  /** Signals with a handler installed (SigCgt), ignored (SigIgn): bit n-1 is signal n. */
  readonly caught: bigint;
  readonly ignored: bigint;
}

export class ProcFormatError extends Error {
  override readonly name = 'ProcFormatError';
}

/** Parses /proc/<pid>/status. */
export function parseStatus(text: string): ProcStatus {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const need = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new ProcFormatError(`/proc status has no ${key} line`);
    return value;
  };
  const uids = need('Uid').split(/\s+/).map(Number);
  if (uids.length < 2 || uids.some((u) => !Number.isInteger(u))) throw new ProcFormatError(`bad Uid line: ${need('Uid')}`);
  return {
    name: fields.get('Name') ?? '',
    state: need('State').charAt(0),
    ppid: Number(need('PPid')),
    realUid: uids[0]!,
    effectiveUid: uids[1]!,
    caught: parseSignalMask(need('SigCgt')),
    ignored: parseSignalMask(need('SigIgn')),
  };
}

export interface ProcStat {
  /** One letter, as in ProcStatus. */
  readonly state: string;
  /** CPU time, in clock ticks (USER_HZ, 100 a second on Linux). */
  readonly userTicks: number;
  readonly systemTicks: number;
  /** When it started, in clock ticks since boot; undefined when the line stops short of it. */
  readonly startTicks: number | undefined;
}

/** Parses /proc/<pid>/stat (or a thread's, /proc/<pid>/task/<tid>/stat). */
export function parseStat(text: string): ProcStat {
  // The command name, in parentheses, may hold anything: the fields follow its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  if (!fields[0] || !Number.isInteger(userTicks) || !Number.isInteger(systemTicks)) throw new ProcFormatError('bad /proc stat line');
  const startTicks = Number(fields[19]);
  return { state: fields[0].charAt(0), userTicks, systemTicks, startTicks: Number.isInteger(startTicks) && startTicks >= 0 ? startTicks : undefined };
}

/** A signal mask as /proc and BSD ps print it: hexadecimal, bit n-1 for signal n. */
export function parseSignalMask(hex: string): bigint {
  const clean = hex.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]+$/i.test(clean)) throw new ProcFormatError(`bad signal mask "${hex}"`);
  return BigInt(`0x${clean}`);
}

export function hasSignal(mask: bigint, signal: number): boolean {
  return signal > 0 && ((mask >> BigInt(signal - 1)) & 1n) === 1n;
}

/** /proc/<pid>/cmdline and /proc/<pid>/environ: NUL-separated, usually NUL-terminated. */
export function parseNulSeparated(buffer: Buffer): string[] {
  const text = buffer.toString('utf8');
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The value of one variable in an environ list, or undefined. */
export function environValue(environ: readonly string[], name: string): string | undefined {
  const prefix = `${name}=`;
  const entry = environ.find((e) => e.startsWith(prefix));
  return entry === undefined ? undefined : entry.slice(prefix.length);
}

/** A Unix socket bound to a path, from /proc/net/unix. */
export interface UnixSocket {
  readonly inode: number;
  readonly path: string;
  readonly listening: boolean;
}

/** __SO_ACCEPTCON in the Flags column: a listening socket. */
const UNIX_LISTENING = 0x10000;

/** Parses /proc/net/unix (Num RefCount Protocol Flags Type St Inode Path): the sockets bound to a path. */
export function parseProcNetUnix(text: string): UnixSocket[] {
  const out: UnixSocket[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const m = /^\s*[0-9a-fA-F]+: [0-9a-fA-F]+ [0-9a-fA-F]+ ([0-9a-fA-F]+) [0-9a-fA-F]+ [0-9a-fA-F]+\s+(\d+) (\/.*)$/.exec(lines[i]!);
    if (m) out.push({ inode: Number(m[2]), path: m[3]!, listening: (parseInt(m[1]!, 16) & UNIX_LISTENING) !== 0 });
  }
  return out;
}

/** `socket:[12345]` (a /proc/<pid>/fd link) → 12345. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

export interface TcpListener {
  /** The local address as text: 127.0.0.1, 0.0.0.0, ::1, ::, ... */
  readonly address: string;
  readonly port: number;
  readonly inode: number;
  readonly family: 4 | 6;
}

/** A connected TCP socket (ESTABLISHED), from one side. */
export interface TcpConnection {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly inode: number;
  readonly family: 4 | 6;
}

const TCP_LISTEN = '0A';
const TCP_ESTABLISHED = '01';

interface TcpRow {
  readonly state: string;
  readonly local: { readonly address: string; readonly port: number };
  readonly remote: { readonly address: string; readonly port: number };
  readonly inode: number;
}

/**
 * The rows of /proc/net/tcp (family 4) or /proc/net/tcp6 (family 6). Addresses are
 * hexadecimal 32-bit words in host byte order (little endian on every platform Node ships for).
 */
function parseTcpRows(text: string, family: 4 | 6): TcpRow[] {
  const out: TcpRow[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const local = endpoint(cols[1]!, family);
    const remote = endpoint(cols[2]!, family);
    const inode = Number(cols[9]);
    if (!local || !remote || !Number.isInteger(inode)) continue;
    out.push({ state: cols[3]!, local, remote, inode });
  }
  return out;
}

function endpoint(text: string, family: 4 | 6): { address: string; port: number } | undefined {
  const [addressHex, portHex] = text.split(':');
  if (addressHex === undefined || portHex === undefined || !/^[0-9A-Fa-f]{4}$/.test(portHex)) return undefined;
  const address = family === 4 ? ipv4FromHex(addressHex) : ipv6FromHex(addressHex);
  return address === undefined ? undefined : { address, port: parseInt(portHex, 16) };
}

/** Listening sockets from /proc/net/tcp or /proc/net/tcp6. */
export function parseProcNetTcp(text: string, family: 4 | 6): TcpListener[] {
  return parseTcpRows(text, family)
    .filter((r) => r.state === TCP_LISTEN)
    .map((r) => ({ address: r.local.address, port: r.local.port, inode: r.inode, family }));
}

/** The client end of a connection to a server socket. */
export interface ClientEnd {
  readonly address: string;
  readonly port: number;
}

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/**
 * The client ends of every connection to the server at `address`:`port` that the table still
 * shows, in any state: open, closing, or gone and in TIME_WAIT (about a minute, on whichever
 * end closed first). Each once, whichever end's rows show it. A server bound to every address
 * is known by its own rows alone (a row whose remote port is `port` may be a connection to
 * another machine).
 */
export function parseClientEnds(text: string, family: 4 | 6, address: string, port: number): ClientEnd[] {
  const any = UNSPECIFIED.has(address);
  const ends = new Map<string, ClientEnd>();
  for (const r of parseTcpRows(text, family)) {
    if (r.state === TCP_LISTEN) continue;
    const client = r.local.port === port && (any || r.local.address === address)
      ? r.remote
      : !any && r.remote.port === port && r.remote.address === address ? r.local : undefined;
    if (client) ends.set(`${client.address}:${client.port}`, { address: client.address, port: client.port });
  }
  return [...ends.values()];
}

/** Connected (ESTABLISHED) sockets from /proc/net/tcp or /proc/net/tcp6. */
export function parseProcNetTcpConnections(text: string, family: 4 | 6): TcpConnection[] {
  return parseTcpRows(text, family)
    .filter((r) => r.state === TCP_ESTABLISHED)
    .map((r) => ({ localAddress: r.local.address, localPort: r.local.port, remoteAddress: r.remote.address, remotePort: r.remote.port, inode: r.inode, family }));
}

function wordBytes(hex8: string): number[] {
  const n = parseInt(hex8, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function ipv4FromHex(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  return wordBytes(hex).join('.');
}

function ipv6FromHex(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(hex.slice(w * 8, w * 8 + 8)));
  // IPv4-mapped (::ffff:a.b.c.d): say it as IPv4, which is how the socket is reached.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) groups.push(((bytes[2 * g]! << 8) | bytes[2 * g + 1]!).toString(16));
  return compressIpv6(groups);
}

/** The shortest form: the longest run of zero groups becomes `::`. */
function compressIpv6(groups: readonly string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

/** When a process started, ms since the epoch, from its stat and the boot time (/proc/stat's btime, seconds). */
export function startedAtMs(stat: ProcStat, bootTimeS: number | undefined): number | undefined {
  if (bootTimeS === undefined || stat.startTicks === undefined) return undefined;
  return Math.round(bootTimeS * 1000 + (stat.startTicks * 1000) / USER_HZ);
}

/** The boot time in seconds since the epoch, from /proc/stat's text. */
export function bootTimeOf(procStat: string): number | undefined {
  const m = /^btime (\d+)$/m.exec(procStat);
  return m ? Number(m[1]) : undefined;
}
