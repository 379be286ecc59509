// The pure parts of attach and ps: reading /proc and tool output, reading Node's flags,
// deciding whether a process can be attached, and the expressions run in a target.

import { describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { ATTACH_EXIT_CODES, AttachError } from '../main/attach/errors';
import { addressesConflict, connectHost, websocketUrl } from '../main/attach/inspector-address';
import { parseTargetList } from '../main/attach/inspector-client';
import { closeInspectorExpression, injectExpression, parseInjectResult } from '../main/attach/inject';
import { lateCloseArgs, parseLateCloseArgs } from '../main/attach/late-close';
import { inspectorSettings, isNodeExecutable, nodeOptionsOfArgv, parseHostPort, parseNodeVersion, splitNodeOptions } from '../main/attach/node-args';
import { readProcess } from '../main/attach/proc-info';
import { environValue, hasSignal, parseNulSeparated, parseProcNetTcp, parseSignalMask, parseStatus, socketInode } from '../main/attach/proc-parse';
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
  sigusr1: 'caught', nodeOptions: undefined, probeFile: undefined,
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

  it('injects only into the PID it was meant for, and never throws', () => {
    const calls: unknown[] = [];
    const fakeRequire = (path: string) => ({ attach: (o: unknown) => (calls.push([path, o]), { status: 'started', version: '0.1.0' }) });
    const run = (pid: number, require: unknown) => runInNewContext(injectExpression(request), { process: { pid }, require });
    expect(run(4242, fakeRequire)).toEqual({ pid: 4242, result: { status: 'started', version: '0.1.0' } });
    expect(calls).toEqual([[request.probeFile, { socketPath: request.socketPath, token: request.token, config: DEFAULT_CONFIG }]]);
    expect(run(999, fakeRequire)).toEqual({ pid: 999 });
    expect(calls).toHaveLength(1);
    const throwing = () => {
      throw new Error('Cannot find module');
    };
    expect(run(4242, throwing)).toEqual({ pid: 4242, result: { status: 'failed', error: 'Cannot find module' } });
    expect(run(4242, undefined)).toMatchObject({ result: { status: 'failed', error: expect.stringMatching(/no require/) } });
    expect(runInNewContext(closeInspectorExpression(4242), { process: { pid: 1 }, require: fakeRequire })).toBe('not process 4242');
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
    pid: 42, ppid: 1, command: ['node', 'server.js'], executable: '/usr/bin/node', nodeVersion: 'v20.11.1', attachable: true, reason: null,
    reasonCode: null, probe: false, inspector: { open: false, port: null }, cwd: null, startedAtMs: null,
  };

  it('aligns its columns and explains what cannot be attached', () => {
    const text = renderPsTable([entry, { ...entry, pid: 1234, attachable: false, reason: 'was started with --disable-sigusr1', reasonCode: 'inspector-disabled', inspector: { open: true, port: 9229 } }], 200);
    expect(text.split('\n')).toEqual([
      'PID   NODE      ATTACH  PROBE  INSPECTOR   COMMAND',
      '42    v20.11.1  yes     -      -           node server.js',
      '1234  v20.11.1  no      -      open :9229  node server.js',
      '',
      'Not attachable:',
      '  1234: was started with --disable-sigusr1',
      '',
    ]);
    expect(renderPsTable([], 80)).toBe('No Node.js processes of yours are running.\n');
  });
});
