// The pure parts of attach and ps: reading /proc and tool output, reading Node's flags,
// deciding whether a process can be attached, and the expressions run in a target.

import { describe, expect, it } from 'vitest';
import { createContext, runInContext, runInNewContext } from 'node:vm';
import { ATTACH_EXIT_CODES, AttachError } from '../main/attach/errors';
import { addressesConflict, connectHost, websocketUrl } from '../main/attach/inspector-address';
import { parseTargetList } from '../main/attach/inspector-client';
import { closeLaterExpression, closeNowExpression, injectExpression, parseCloseResult, parseInjectResult } from '../main/attach/inject';
import { lateCloseArgs, parseLateCloseArgs } from '../main/attach/late-close';
import { inspectorSettings, isNodeExecutable, nodeOptionsOfArgv, parseHostPort, parseNodeVersion, splitNodeOptions } from '../main/attach/node-args';
import { readProcess } from '../main/attach/proc-info';
import { environValue, hasSignal, parseClientEnds, parseNulSeparated, parseProcNetTcp, parseProcNetTcpConnections, parseSignalMask, parseStat, parseStatus, socketInode } from '../main/attach/proc-parse';
import { whyNoInspector } from '../main/attach/no-inspector';
import { needsWatch, reportClose } from '../main/attach/inspector-report';
import { parseWakeAnswer, parseWakeRequest } from '../probe/wake';
import { decideAttachable, type ProcessInfo } from '../main/attach/process-info';
import { parseLsofListeners, parseNetstatListeners, parsePsSignals, parsePsTextColumn, parseWindowsProcesses, splitAddress, splitWindowsCommandLine } from '../main/attach/tool-output-parse';
import { renderPsTable } from '../main/cli/ps-command';
import type { PsEntry } from '../main/attach/process-list';
import { DEFAULT_CONFIG } from '../probe/constants';

// Captured from a Node 20 process on Linux (trimmed).
const STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
Tgid:\t6496
Pid:\t6496
PPid:\t6470
Uid:\t1000\t1000\t1000\t1000
Gid:\t1000\t1000\t1000\t1000
SigQ:\t0/95920
SigPnd:\t0000000000000000
ShdPnd:\t0000000000000000
SigBlk:\t0000000000000000
SigIgn:\t0000000001001000
SigCgt:\t0000000100004602
`;

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2405 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 38773 1 000000009b3a4c1a 100 0 0 10 0
   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 182 1 00000000d02a2f4d 100 0 0 10 0
   2: 0100007F:CE6A 0100007F:240D 06 00000000:00000000 03:0000141A 00000000     0        0 0 3 00000000edf202f1
`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 501 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:2405 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 502 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 503 1 0000000000000000 100 0 0 10 0
`;

const base: ProcessInfo = {
  pid: 100, ppid: 1, uid: 1000, state: 'S', argv: ['node', 'app.js'], exe: '/usr/bin/node', isNode: true,
  sigusr1: 'caught', nodeOptions: undefined, probeFile: undefined, wakeSocket: undefined,
};
const v20 = parseNodeVersion('v20.11.1');

describe('/proc parsing', () => {
  it('reads a status file: state, parent, users, and the SIGUSR1 (10) bit of SigCgt', () => {
    const s = parseStatus(STATUS);
    expect(s).toMatchObject({ name: 'node', state: 'S', ppid: 6470, realUid: 1000, effectiveUid: 1000 });
    expect(hasSignal(s.caught, 10)).toBe(true);
    expect(hasSignal(parseSignalMask('0000000100004402'), 10)).toBe(false); // node --disable-sigusr1
    expect(hasSignal(s.ignored, 13)).toBe(true); // SIGPIPE
    expect(hasSignal(s.caught, 0)).toBe(false);
    expect(() => parseSignalMask('zz')).toThrow(/bad signal mask/);
    expect(() => parseStatus('Name:\tx\n')).toThrow(/no Uid line/);
  });

  it('reads listening TCP sockets, IPv4 and IPv6, and skips other states', () => {
    expect(parseProcNetTcp(TCP, 4)).toEqual([
      { address: '127.0.0.1', port: 9221, inode: 38773, family: 4 },
      { address: '0.0.0.0', port: 2024, inode: 182, family: 4 },
    ]);
    expect(parseProcNetTcp(TCP6, 6)).toEqual([
      { address: '::', port: 8080, inode: 501, family: 6 },
      { address: '::1', port: 9221, inode: 502, family: 6 },
      { address: '::ffff:127.0.0.1', port: 3000, inode: 503, family: 6 },
    ]);
    expect(parseProcNetTcp('header only\n', 4)).toEqual([]);
  });

  it('reads a stat line whose command name holds spaces and parentheses', () => {
    const line = '4242 (node (my app) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 731 52 0 0 20 0 11 0 100 0 0';
    expect(parseStat(line)).toEqual({ state: 'S', userTicks: 731, systemTicks: 52, startTicks: 100 });
    expect(() => parseStat('4242 (x) S 1')).toThrow(/bad \/proc stat/);
  });

  it('says why SIGUSR1 did not open an inspector, from the main thread before and after the wait', () => {
    const at = (cpuMs: number, state = 'S', wchan?: string) => ({ state, wchan, cpuMs });
    expect(whyNoInspector(at(0), at(10, 'S', 'do_epoll_wait'), 1000).reason).toMatch(/handles SIGUSR1 itself/);
    expect(whyNoInspector(at(0), at(10, 'S', 'do_epoll_wait'), 1000).hint).toMatch(/dormant probe/);
    expect(whyNoInspector(at(0), at(950, 'R'), 1000).reason).toMatch(/running all along, in native code/);
    expect(whyNoInspector(at(0), at(900, 'S', 'do_epoll_wait'), 1000).reason).toMatch(/running all along/);
    expect(whyNoInspector(at(0), at(5, 'S', 'futex_wait_queue'), 1000).reason).toMatch(/blocked in a system call \(futex_wait_queue\)/);
    expect(whyNoInspector(undefined, at(5), 1000).reason).toMatch(/may be blocked, or the program handles SIGUSR1 itself/);
    expect(whyNoInspector(at(0), at(5, 'S'), 1000).reason).toMatch(/may be blocked/);
  });

  it('reads connected TCP sockets with both ends, and skips the other states', () => {
    const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 900 1 0 100 0 0 10 0
   1: 0100007F:240D 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 901 1 0 20 4 30 10 -1
   2: 0100007F:D431 0100007F:240D 01 00000000:00000000 00:00000000 00000000  1000        0 902 1 0 20 4 30 10 -1
   3: 0100007F:240D 0100007F:9C40 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0
   4: garbage
`;
    expect(parseProcNetTcpConnections(table, 4)).toEqual([
      { localAddress: '127.0.0.1', localPort: 9229, remoteAddress: '127.0.0.1', remotePort: 54321, inode: 901, family: 4 },
      { localAddress: '127.0.0.1', localPort: 54321, remoteAddress: '127.0.0.1', remotePort: 9229, inode: 902, family: 4 },
    ]);
    expect(parseProcNetTcp(table, 4)).toEqual([{ address: '127.0.0.1', port: 9229, inode: 900, family: 4 }]);
  });

  it('reads the client ends of every connection to a server, those gone in the last minute too, each once', () => {
    const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 900 1 0 100 0 0 10 0
   1: 0100007F:240D 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 901 1 0 20 4 30 10 -1
   2: 0100007F:D431 0100007F:240D 01 00000000:00000000 00:00000000 00000000  1000        0 902 1 0 20 4 30 10 -1
   3: 0100007F:9C40 0100007F:240D 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0
   4: 0100007F:240D 0100007F:9C41 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0
   5: 0200007F:240D 0100007F:9C42 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0
   6: 0100007F:9C43 0101A8C0:240D 01 00000000:00000000 00:00000000 00000000     0        0 903 1 0 20 4 30 10 -1
`;
    // 54321 open (both ends' rows), 40000 gone (its own TIME_WAIT), 40001 gone (the server's);
    // not 40002 (to another address), nor 40003 (to another machine's 9229).
    expect(parseClientEnds(table, 4, '127.0.0.1', 9229)).toEqual([
      { address: '127.0.0.1', port: 54321 }, { address: '127.0.0.1', port: 40000 }, { address: '127.0.0.1', port: 40001 },
    ]);
    // Bound to every address: its own rows alone, whatever their address.
    expect(parseClientEnds(table, 4, '0.0.0.0', 9229).map((e) => e.port)).toEqual([54321, 40001, 40002]);
  });

  it('reads fd links, NUL-separated lists and environment values', () => {
    expect(socketInode('socket:[12345]')).toBe(12345);
    expect(socketInode('/dev/null')).toBeUndefined();
    expect(parseNulSeparated(Buffer.from('node\0--inspect\0app.js\0'))).toEqual(['node', '--inspect', 'app.js']);
    expect(environValue(['A=1', 'NODE_OPTIONS=--max-old-space-size=300 -r x'], 'NODE_OPTIONS')).toBe('--max-old-space-size=300 -r x');
    expect(environValue(['A=1'], 'NODE_OPTIONS')).toBeUndefined();
  });

  it('reads this very process from the real /proc', () => {
    const me = readProcess(process.pid);
    expect(me).toMatchObject({ pid: process.pid, uid: process.geteuid!(), isNode: true, exe: process.execPath, sigusr1: 'caught' });
    expect(me.argv[0]).toBeTruthy();
    let error: unknown;
    try {
      readProcess(4194304);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AttachError);
    expect((error as AttachError).exitCode).toBe(ATTACH_EXIT_CODES['no-such-process']);
  });
});

describe('Node flags', () => {
  it('finds the Node options of a command line, before the script', () => {
    expect(nodeOptionsOfArgv(['node', '--inspect-port', '9300', '-r', 'dotenv/config', 'app.js', '--inspect=1'])).toEqual(['--inspect-port', '9300', '-r', 'dotenv/config']);
    expect(nodeOptionsOfArgv(['node', '-e', 'x', '--disable-sigusr1'])).toEqual(['-e']);
    expect(nodeOptionsOfArgv(['node'])).toEqual([]);
  });

  it('splits NODE_OPTIONS as Node does', () => {
    expect(splitNodeOptions('--require "/a b/probe.js" --inspect-port=9300')).toEqual(['--require', '/a b/probe.js', '--inspect-port=9300']);
    expect(splitNodeOptions('  -r "x\\"y"  ')).toEqual(['-r', 'x"y']);
    expect(splitNodeOptions('')).toEqual([]);
  });

  it('reads [host:]port', () => {
    expect(parseHostPort('9300')).toEqual({ port: 9300 });
    expect(parseHostPort('0.0.0.0:9300')).toEqual({ host: '0.0.0.0', port: 9300 });
    expect(parseHostPort('[::1]:9300')).toEqual({ host: '::1', port: 9300 });
    expect(parseHostPort('localhost')).toEqual({ host: 'localhost' });
  });

  it('works out where SIGUSR1 opens the inspector, and what turns it off', () => {
    expect(inspectorSettings([], [])).toEqual({ host: '127.0.0.1', port: 9229, openAtStart: false, sigusr1Disabled: false, permissionModel: false });
    expect(inspectorSettings(['--inspect-port=9300'], ['--inspect=0.0.0.0:9400'])).toMatchObject({ host: '0.0.0.0', port: 9400, openAtStart: true });
    expect(inspectorSettings(['--inspect-port=9300'], [])).toMatchObject({ port: 9300, openAtStart: false });
    expect(inspectorSettings([], ['--inspect-port', '0'])).toMatchObject({ port: 0 });
    expect(inspectorSettings([], ['--inspect-brk'])).toMatchObject({ port: 9229, openAtStart: true });
    expect(inspectorSettings([], ['--disable-sigusr1'])).toMatchObject({ sigusr1Disabled: true });
    expect(inspectorSettings(['--experimental-permission'], [])).toMatchObject({ permissionModel: true });
    expect(inspectorSettings([], ['--permission'])).toMatchObject({ permissionModel: true });
  });

  it('knows Node by its executable file', () => {
    for (const exe of ['/usr/bin/node', '/usr/bin/nodejs', '/opt/node22', 'C:\\Program Files\\nodejs\\node.exe', '/x/node-linux-x64/bin/node']) {
      expect(isNodeExecutable(exe)).toBe(true);
    }
    for (const exe of ['/usr/bin/bun', '/usr/bin/nodemon', '/usr/bin/bash', '/opt/electron']) expect(isNodeExecutable(exe)).toBe(false);
    expect(parseNodeVersion('v22.23.3\n')).toMatchObject({ major: 22, minor: 23, patch: 3 });
    expect(parseNodeVersion('nope')).toBeUndefined();
  });
});

describe('deciding whether to attach', () => {
  const verdict = (patch: Partial<ProcessInfo>, version = v20) => decideAttachable({ ...base, ...patch }, 1000, version);

  it('attaches to a Node of ours that handles SIGUSR1', () => {
    expect(verdict({})).toMatchObject({ attachable: true, settings: { port: 9229 } });
    expect(verdict({ nodeOptions: '--inspect-port=9300' })).toMatchObject({ attachable: true, settings: { port: 9300 } });
    expect(verdict({ uid: undefined, sigusr1: 'not-applicable', state: undefined })).toMatchObject({ attachable: true }); // Windows
    // Its inspector on this machine alone, or already open wherever the program put it.
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '[0:0:0:0:0:0:0:1]']) {
      expect(verdict({ nodeOptions: `--inspect-port=${host}:9300` }), host).toMatchObject({ attachable: true });
    }
    expect(verdict({ argv: ['node', '--inspect=0.0.0.0:9300', 'a.js'] })).toMatchObject({ attachable: true, settings: { host: '0.0.0.0', openAtStart: true } });
  });

  it.each<[string, Partial<ProcessInfo>, string, RegExp]>([
    ['another user\'s', { uid: 0 }, 'not-permitted', /another user \(uid 0\)/],
    ['a zombie', { state: 'Z' }, 'target-exited', /has exited/],
    ['not Node', { isNode: false, exe: '/usr/bin/python3' }, 'not-node', /not a Node\.js process \(it runs \/usr\/bin\/python3\)/],
    ['unreadable', { isNode: undefined, exe: undefined }, 'not-node', /cannot be identified/],
    ['stopped', { state: 'T' }, 'not-attachable', /is stopped/],
    ['--disable-sigusr1', { argv: ['node', '--disable-sigusr1', 'a.js'] }, 'inspector-disabled', /--disable-sigusr1/],
    ['--permission in NODE_OPTIONS', { nodeOptions: '--permission' }, 'inspector-disabled', /permission model/],
    ['no SIGUSR1 handler', { sigusr1: 'default' }, 'inspector-disabled', /no SIGUSR1 handler: the signal would kill it/],
    ['ignoring SIGUSR1', { sigusr1: 'ignored' }, 'inspector-disabled', /ignores SIGUSR1/],
    ['unknown handler', { sigusr1: 'unknown' }, 'not-attachable', /does not show whether it handles SIGUSR1/],
    ['to open its inspector on every interface', { nodeOptions: '--inspect-port=0.0.0.0:9229' }, 'not-attachable', /would open its inspector on 0\.0\.0\.0 .*other machines can reach it/],
    ['to open its inspector on a host name', { argv: ['node', '--inspect-port=build-box:9229', 'a.js'] }, 'not-attachable', /on build-box/],
  ])('refuses a process that is %s', (_name, patch, code, reason) => {
    const v = verdict(patch);
    expect(v).toMatchObject({ attachable: false, code });
    if (!v.attachable) {
      expect(v.reason).toMatch(reason);
      expect(ATTACH_EXIT_CODES[v.code]).toBeGreaterThan(2);
    }
  });

  it('refuses a Node too old for the probe', () => {
    expect(verdict({}, parseNodeVersion('v16.20.0'))).toMatchObject({ attachable: false, code: 'not-attachable', reason: expect.stringMatching(/v16\.20\.0.*18 or later/) });
  });

  it('gives every error its own exit code', () => {
    const codes = Object.values(ATTACH_EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).not.toContain(0);
    expect(codes).not.toContain(2); // usage
    expect(codes).not.toContain(70); // internal
  });
});

describe('inspector addresses', () => {
  it('connects to wildcards through loopback, and knows what keeps a port from binding', () => {
    expect(connectHost('0.0.0.0')).toBe('127.0.0.1');
    expect(connectHost('::')).toBe('::1');
    expect(connectHost('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressesConflict('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(addressesConflict('0.0.0.0', '127.0.0.1')).toBe(true);
    expect(addressesConflict('::', '127.0.0.1')).toBe(true);
    expect(addressesConflict('127.0.0.1', 'localhost')).toBe(true);
    expect(addressesConflict('::1', '127.0.0.1')).toBe(false);
    expect(addressesConflict('10.0.0.5', '127.0.0.1')).toBe(false);
    expect(websocketUrl('ws://0.0.0.0:9229/abc-def', '127.0.0.1', 9229)).toBe('ws://127.0.0.1:9229/abc-def');
    expect(websocketUrl('ws://localhost:9229/abc', '::1', 9300)).toBe('ws://[::1]:9300/abc');
  });

  it('accepts only an inspector\'s /json/list', () => {
    expect(parseTargetList(200, '[{"id":"x","webSocketDebuggerUrl":"ws://127.0.0.1:9229/x"}]')).toEqual([{ id: 'x', webSocketDebuggerUrl: 'ws://127.0.0.1:9229/x' }]);
    expect(() => parseTargetList(404, '')).toThrow(/HTTP 404/);
    expect(() => parseTargetList(200, '<html>')).toThrow(/not JSON/);
    expect(() => parseTargetList(200, '[]')).toThrow(/no target/);
  });
});

describe('expressions run in the target', () => {
  const request = { pid: 4242, probeFile: '/opt/loopscope/dist/probe.js', socketPath: '/tmp/loopscope-x/probe.sock', token: 't"o\'k', config: DEFAULT_CONFIG };

  it('injects only into the PID it was meant for, loads the probe only once the target\'s stack is empty, and never throws', async () => {
    const calls: unknown[] = [];
    const fakeRequire = (path: string) => ({ attach: (o: unknown) => (calls.push([path, o]), { status: 'started', version: '0.1.0' }) });
    const run = (pid: number, require: unknown) => runInNewContext(injectExpression(request), { process: { pid }, require, performance: { now: () => 12.5 } }) as unknown;
    const started = run(4242, fakeRequire);
    expect(calls).toHaveLength(0); // not from inside the evaluation: from a promise reaction
    expect(await started).toEqual({ pid: 4242, now: 12.5, result: { status: 'started', version: '0.1.0' } });
    expect(calls).toEqual([[request.probeFile, { socketPath: request.socketPath, token: request.token, config: DEFAULT_CONFIG }]]);
    expect(await run(999, fakeRequire)).toEqual({ pid: 999 });
    expect(calls).toHaveLength(1);
    const throwing = () => {
      throw new Error('Cannot find module');
    };
    expect(await run(4242, throwing)).toEqual({ pid: 4242, now: 12.5, result: { status: 'failed', error: 'Cannot find module' } });
    expect(await run(4242, undefined)).toMatchObject({ result: { status: 'failed', error: expect.stringMatching(/no require/) } });
  });

  // The target's side of the close, run against fakes of what it touches: its immediates, its
  // inspector, and its socket table (/proc/self/net/tcp).
  describe('closing the inspector', () => {
    const close = { port: 9229, clientPort: 40000, family: 4 as const };
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const row = (local: string, remote: string, state: string) => `   0: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 1 1 0 20 4 30 10 -1\n`;
    const listening = row('0100007F:240D', '00000000:0000', '0A');
    const ours = row('0100007F:240D', '0100007F:9C40', '01'); // from port 40000
    const theirs = row('0100007F:240D', '0100007F:D431', '01'); // from port 54321

    /** A target process, as far as the expressions touch it: its immediates, inspector, socket table and modules. */
    function target(table: string, pid = 4242) {
      const immediates: (() => void)[] = [];
      let closes = 0;
      const starts: unknown[] = [];
      let startResult: unknown = { status: 'started', version: '0.1.0' };
      const modules: Record<string, unknown> = {
        inspector: { close: () => closes++, url: () => 'ws://127.0.0.1:9229/x' },
        fs: { readFileSync: (file: string) => (file === '/proc/self/net/tcp' ? table : '') },
        [request.probeFile]: { attach: (o: unknown) => (starts.push(o), startResult) },
      };
      const load = Object.assign((m: string) => modules[m], { cache: {}, resolve: (m: string) => m });
      const context = createContext({ process: { pid, platform: 'linux' }, require: load, performance: { now: () => 7 }, setImmediate: (f: () => void) => immediates.push(f) });
      return {
        run: (expression: string): unknown => runInContext(expression, context),
        /** Runs the immediates queued so far (one check phase); later ones wait for the next. */
        turn: () => immediates.splice(0).forEach((f) => f()),
        closes: () => closes,
        starts: () => starts.length,
        failNextStart: (error: string) => (startResult = { status: 'failed', error }),
      };
    }

    it('closes now, and again two loop turns later (a busy loop\'s pending SIGUSR1 wake-up reopens it at the next poll phase)', () => {
      const t = target(header + listening + ours);
      expect(parseCloseResult(t.run(closeLaterExpression(4242, close)))).toEqual({ kind: 'scheduled' });
      t.run(closeNowExpression(4242, close));
      expect(t.closes()).toBe(1);
      t.turn();
      expect(t.closes()).toBe(1); // one turn is not enough: its check phase may precede the poll that holds the wake-up
      t.turn();
      expect(t.closes()).toBe(2);
    });

    it('does not close while another client is connected (the close would wait for it, freezing the loop)', () => {
      const t = target(header + listening + ours + theirs);
      t.run(closeLaterExpression(4242, close));
      t.run(closeNowExpression(4242, close));
      t.turn();
      t.turn();
      expect(t.closes()).toBe(0);
      const ended = target(header + listening + ours + theirs.replace(' 01 ', ' 06 ')); // TIME_WAIT: gone
      ended.run(closeNowExpression(4242, close));
      expect(ended.closes()).toBe(1);
    });

    it('starts the injected probe once the inspector is closed and the target\'s stack is empty, once, and tells a failed start to the next injection', async () => {
      const t = target(header + listening + ours);
      const inject = injectExpression({ ...request, close });
      expect(parseInjectResult(t.run(inject))).toEqual({ kind: 'scheduled' });
      expect(t.starts()).toBe(0);
      t.run(closeNowExpression(4242, close));
      expect([t.closes(), t.starts()]).toEqual([1, 0]);
      await Promise.resolve();
      expect([t.closes(), t.starts()]).toEqual([1, 1]);
      t.turn();
      t.turn();
      expect([t.closes(), t.starts()]).toEqual([2, 1]);
      // Had the last words been lost, two loop turns start it.
      t.failNextStart('no worker threads here');
      t.run(inject);
      t.turn();
      t.turn();
      expect(t.starts()).toBe(2);
      expect(parseInjectResult(t.run(inject))).toEqual({ kind: 'failed', error: 'no worker threads here' });
    });

    it('leaves another process\'s inspector alone', () => {
      const t = target(header + listening, 1);
      expect(parseCloseResult(t.run(closeLaterExpression(4242, close)))).toEqual({ kind: 'wrong-process', pid: 1 });
      expect(parseInjectResult(t.run(injectExpression({ ...request, close })))).toEqual({ kind: 'wrong-process', pid: 1 });
      t.run(closeNowExpression(4242, close));
      t.turn();
      t.turn();
      expect([t.closes(), t.starts()]).toEqual([0, 0]);
    });
  });

  it('reads what the injection returned', () => {
    expect(parseInjectResult({ pid: 1, result: { status: 'started', version: '0.1.0' } })).toEqual({ kind: 'started', version: '0.1.0' });
    expect(parseInjectResult({ pid: 1, result: { status: 'already-running', version: '0.1.0' } })).toEqual({ kind: 'already-running', version: '0.1.0' });
    expect(parseInjectResult({ pid: 7 })).toEqual({ kind: 'wrong-process', pid: 7 });
    expect(parseInjectResult({ pid: 1, result: { status: 'failed', error: 'boom' } })).toEqual({ kind: 'failed', error: 'boom' });
    expect(parseInjectResult(undefined)).toMatchObject({ kind: 'failed' });
  });

  it('passes the late closer its job on the command line', () => {
    const job = { pid: 12, host: '127.0.0.1', port: 9229, knownPorts: [3000, 8080], untilMs: 1_800_000_000_000 };
    expect(parseLateCloseArgs(lateCloseArgs(job).slice(1))).toEqual(job);
    expect(parseLateCloseArgs(lateCloseArgs({ ...job, knownPorts: [] }).slice(1))).toEqual({ ...job, knownPorts: [] });
    expect(parseLateCloseArgs(['x'])).toBeUndefined();
  });
});

describe('macOS and Windows tool output', () => {
  it('reads BSD ps, with caught and ignored signal masks', () => {
    const rows = parsePsSignals('  501   1   501 Ss   4a02     1000\n  77  501   501 S+   0        0\nbad line\n');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ pid: 501, ppid: 1, uid: 501, state: 'S' });
    expect(hasSignal(rows[0]!.caught!, 10)).toBe(true);
    expect(hasSignal(rows[1]!.caught!, 10)).toBe(false);
    expect(parsePsTextColumn('  501 /usr/local/bin/node server.js\n   77 /bin/zsh\n')).toEqual(new Map([[501, '/usr/local/bin/node server.js'], [77, '/bin/zsh']]));
  });

  it('reads lsof and netstat listeners', () => {
    expect(parseLsofListeners('p501\nf22\nn127.0.0.1:9229\nf23\nn*:3000\np77\nn[::1]:8080\n')).toEqual([
      { pid: 501, address: '127.0.0.1', port: 9229, family: 4 },
      { pid: 501, address: '0.0.0.0', port: 3000, family: 4 },
      { pid: 77, address: '::1', port: 8080, family: 6 },
    ]);
    const netstat = `
Active Connections

  Proto  Local Address          Foreign Address        State           PID
  TCP    127.0.0.1:9229         0.0.0.0:0              LISTENING       4242
  TCP    127.0.0.1:52000        127.0.0.1:9229         ESTABLISHED     77
  TCP    [::]:3000              [::]:0                 LISTENING       88
`;
    expect(parseNetstatListeners(netstat)).toEqual([
      { pid: 4242, address: '127.0.0.1', port: 9229, family: 4 },
      { pid: 88, address: '::', port: 3000, family: 6 },
    ]);
    expect(splitAddress('[fe80::1%4]:22')).toEqual({ address: 'fe80::1', port: 22, family: 6 });
    expect(splitAddress('no port')).toBeUndefined();
  });

  it('reads PowerShell\'s process list, one or many', () => {
    const one = '{"ProcessId":4242,"ParentProcessId":1,"ExecutablePath":"C:\\\\nodejs\\\\node.exe","CommandLine":"\\"C:\\\\nodejs\\\\node.exe\\" app.js"}';
    expect(parseWindowsProcesses(one)).toEqual([{ pid: 4242, ppid: 1, exe: 'C:\\nodejs\\node.exe', commandLine: '"C:\\nodejs\\node.exe" app.js' }]);
    expect(parseWindowsProcesses(`[${one},{"ProcessId":4,"ParentProcessId":0,"ExecutablePath":null,"CommandLine":null}]`)).toHaveLength(2);
    expect(parseWindowsProcesses('')).toEqual([]);
    expect(splitWindowsCommandLine('"C:\\Program Files\\nodejs\\node.exe" --inspect-port=9300 app.js')).toEqual(['C:\\Program Files\\nodejs\\node.exe', '--inspect-port=9300', 'app.js']);
  });
});

describe('ps table', () => {
  const entry: PsEntry = {
    pid: 42, ppid: 1, command: ['node', 'server.js'], executable: '/usr/bin/node', nodeVersion: 'v20.11.1', attachable: true, via: 'inspector', reason: null,
    reasonCode: null, probe: false, inspector: { open: false, port: null }, cwd: null, startedAtMs: null,
  };

  it('aligns its columns and explains what cannot be attached', () => {
    const text = renderPsTable([
      entry,
      { ...entry, pid: 77, via: 'probe' },
      { ...entry, pid: 1234, attachable: false, via: null, reason: 'was started with --disable-sigusr1', reasonCode: 'inspector-disabled', inspector: { open: true, port: 9229 } },
    ], 200);
    expect(text.split('\n')).toEqual([
      'PID   NODE      ATTACH     PROBE  INSPECTOR   COMMAND',
      '42    v20.11.1  inspector  -      -           node server.js',
      '77    v20.11.1  probe      -      -           node server.js',
      '1234  v20.11.1  no         -      open :9229  node server.js',
      '',
      'Not attachable:',
      '  1234: was started with --disable-sigusr1',
      '',
    ]);
    expect(renderPsTable([], 80)).toBe('No Node.js processes of yours are running.\n');
  });
});

describe('what attach says about the inspector it opened', () => {
  const closed = { state: 'closed' as const, reopened: 0, others: [], cameAndWent: [], closedAtMs: 100 };
  const racer = { address: '127.0.0.1', port: 54321, pid: 777 };
  const hidden = { address: '127.0.0.1', port: 54322, pid: undefined };

  it('stays quiet about a clean close, and is loud about everything else', () => {
    expect(reportClose(42, '127.0.0.1:9229', closed, 30, false)).toEqual({ warnings: [], problem: undefined });
    expect(reportClose(42, '127.0.0.1:9229', { ...closed, reopened: 1 }, 30, false)).toEqual({ warnings: [], problem: undefined });
    const foreign = reportClose(42, '127.0.0.1:9229', { ...closed, others: [racer, hidden] }, 30, false);
    expect(foreign.problem).toBe('foreign-session');
    expect(foreign.warnings).toEqual([expect.stringMatching(/open \(for 30 ms\), another client connected to it: process 777, a process loopscope cannot see \(another user's\?\) from port 54322/)]);
    const held = reportClose(42, '127.0.0.1:9229', { ...closed, state: 'open', others: [racer] }, undefined, true);
    expect(held.problem).toBe('foreign-session');
    expect(held.warnings[1]).toMatch(/still listens on 127\.0\.0\.1:9229: loopscope did not close it, since Node would freeze the process .*a background loopscope will close it/);
    expect(reportClose(42, '127.0.0.1:9229', { ...closed, state: 'stuck', others: [racer] }, 30, false).warnings[1]).toMatch(/process 42 is frozen.*ending that client \(process 777\) frees it/);
    expect(reportClose(42, '127.0.0.1:9229', { ...closed, state: 'open', reopened: 3 }, undefined, true)).toMatchObject({ problem: 'inspector-open', warnings: [expect.stringMatching(/kept opening again after each close \(3 times\)/)] });
    expect(reportClose(42, '127.0.0.1:9229', { ...closed, state: 'open' }, undefined, false).warnings[0]).toMatch(/did not close it in time .*no background loopscope could be started/);
    expect(reportClose(42, '127.0.0.1:9229', { ...closed, state: 'unconfirmed' }, 30, true)).toMatchObject({ problem: 'inspector-open' });
    const gone = reportClose(42, '127.0.0.1:9229', { ...closed, cameAndWent: [{ address: '127.0.0.1', port: 40000 }, { address: '::1', port: 40001 }] }, 30, false);
    expect(gone).toEqual({ problem: 'foreign-session', warnings: [expect.stringMatching(/open \(for 30 ms\), 2 connections that were not this loopscope's came and went \(from 127\.0\.0\.1:40000, \[::1\]:40001; the socket tables no longer say whose\)\. Whoever can reach 127\.0\.0\.1:9229 can run code/)] });
    expect(['closed', 'unconfirmed', 'open', 'stuck', 'exited'].filter((s) => needsWatch(s as never))).toEqual(['unconfirmed', 'open']);
  });
});

describe('the dormant probe\'s wake-up request', () => {
  const good = { socketPath: '/tmp/loopscope-x/probe.sock', token: 'a'.repeat(32), config: { mode: 'tasks', intervalMs: 50 } };

  it('takes the fields it knows, with their shapes, and says what is wrong otherwise', () => {
    expect(parseWakeRequest(JSON.stringify(good))).toEqual(good);
    expect(parseWakeRequest(JSON.stringify({ ...good, config: { mode: 'everything', promises: 'yes', intervalMs: 5, extra: 1 }, more: 2 }))).toEqual({ ...good, config: { intervalMs: 5 } });
    expect(parseWakeRequest(JSON.stringify({ ...good, socketPath: '\\\\.\\pipe\\loopscope-x-probe' }))).toMatchObject({ socketPath: '\\\\.\\pipe\\loopscope-x-probe' });
    for (const [bad, error] of [
      ['{', 'the request is not JSON'],
      ['[1]', 'the request is not an object'],
      ['null', 'the request is not an object'],
      [JSON.stringify({ ...good, token: 'x y' }), 'bad token'],
      [JSON.stringify({ ...good, token: 'a'.repeat(200) }), 'bad token'],
      [JSON.stringify({ ...good, socketPath: 'probe.sock' }), 'the socket path is not absolute'],
      [JSON.stringify({ ...good, socketPath: '/tmp/a\u0000b' }), 'bad socket path'],
      [JSON.stringify({ ...good, socketPath: `/${'é'.repeat(60)}` }), 'bad socket path'],
      [JSON.stringify({ ...good, config: [] }), 'bad config'],
    ] as const) expect(parseWakeRequest(bad)).toEqual({ error });
  });

  it('reads the probe\'s answer, bounded, and anything else as a failure', () => {
    expect(parseWakeAnswer('{"status":"started","version":"0.1.0"}')).toEqual({ status: 'started', version: '0.1.0' });
    expect(parseWakeAnswer(`{"status":"failed","error":"${'x'.repeat(2000)}"}`)).toEqual({ status: 'failed', error: 'x'.repeat(500) });
    expect(parseWakeAnswer('{"status":"owned"}')).toEqual({ status: 'failed', error: 'the probe did not answer in its format' });
    expect(parseWakeAnswer('garbage')).toMatchObject({ status: 'failed' });
  });
});

