// `loopscope run [options] -- <command> [args…]`: start a command with the probe preloaded,
// show its loop live, and summarize when it ends.

import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { CONFIG_LIMITS, PROBE_MODES, type ProbeConfig, type ProbeMode } from '../../probe/wire';
import { DEFAULT_CONFIG } from '../../probe/constants';
import { startProbeServer } from '../server/probe-server';
import { probePath } from '../launch/probe-path';
import { launch } from '../launch/launch';
import { SessionWatch } from './session-watch';
import { RecordingWriter } from '../recording/recording-writer';
import { FLEET_OPTIONS, fleetLog, watchFleet } from './fleet-options';
import { reattachWhenLost } from './reattach';
import { descendantsOf, oneProcess } from '../attach/session-members';

export const SESSION_OPTIONS: readonly OptionSpec[] = [
  { name: 'mode', kind: 'string', valueName: 'mode', choices: PROBE_MODES, description: `what to collect: ${PROBE_MODES.join(' | ')} (default ${DEFAULT_CONFIG.mode})` },
  { name: 'promises', kind: 'flag', description: 'in tasks and trace modes, track promises too (costly in promise-heavy code)' },
  { name: 'interval', kind: 'number', valueName: 'ms', ...CONFIG_LIMITS.intervalMs, description: `metrics interval (default ${DEFAULT_CONFIG.intervalMs})` },
  { name: 'block-threshold', kind: 'number', valueName: 'ms', ...CONFIG_LIMITS.blockThresholdMs, description: `report the loop as blocked past this (default ${DEFAULT_CONFIG.blockThresholdMs})` },
  { name: 'no-profile', kind: 'flag', description: 'no CPU sampler: blocked stacks then come from the watchdog\'s interrupt alone, and there is no profile' },
  { name: 'sample-interval', kind: 'number', valueName: 'ms', ...CONFIG_LIMITS.sampleIntervalMs, description: `the CPU sampler's interval (default ${DEFAULT_CONFIG.sampleIntervalMs})` },
  // At most 24.8 days: a longer timer fires at once (Node's timers hold 2^31 - 1 ms).
  { name: 'duration', kind: 'number', valueName: 'seconds', min: 0.1, max: 2_147_483, description: 'stop after this long (the command gets SIGTERM, then SIGKILL 5 s later)' },
  { name: 'record', kind: 'string', valueName: 'file', description: 'also record the session to <file> (overwritten); see loopscope summary, replay, export' },
  { name: 'json', kind: 'flag', description: 'no live view; print one JSON summary on stdout at the end' },
  ...FLEET_OPTIONS,
  { name: 'help', short: 'h', kind: 'flag', description: 'show this help' },
];

const RUN_OPTIONS: readonly OptionSpec[] = [
  { name: 'no-follow', kind: 'flag', description: 'watch only the command\'s own process, not the Node processes it starts' },
  ...SESSION_OPTIONS,
];

export const RUN_HELP = `Usage: loopscope run [options] -- <command> [args…]

Starts <command> with the loopscope probe preloaded (through NODE_OPTIONS, keeping yours),
shows its event loops live (every worker thread, and every Node process it starts, at any
depth: \`loopscope run -- npm start\` shows the app), and prints a summary when it ends.
loopscope then exits with the command's exit code.

The live view sits at the bottom of the terminal; the command's output scrolls above it.
With --json, the command's output goes to stderr and stdout carries only the summary. The
command writes to them itself: if loopscope is killed, the command carries on.

Options:
${'{options}'}

A CPU sampler runs in the probe by default (V8's profiler, one profile kept running): blocked
stacks come from the samples taken inside each block, which name the line of a blocking call
even inside JSON.parse or structuredClone, and the summary lists where CPU time went. V8's
profiler costs a busy server 1–2% of its throughput by running at all, whatever the interval:
--no-profile saves that, at the price of blame inside native calls.

Examples:
  loopscope run -- node server.js
  loopscope run --duration 5 --json -- node app.js > summary.json
  loopscope run --block-threshold 20 -- node --enable-source-maps dist/index.js
  loopscope run --headless --prometheus :9464 --record-dir /var/lib/loopscope -- node server.js
`;

const KILL_AFTER_TERM_MS = 5000;
const NO_PROBE_WARNING_MS = 3000;
/** After the command exits, how long to wait for the probe's last frames. */
const FINAL_FRAMES_MS = 1000;

export function configFrom(options: Readonly<Record<string, unknown>>): ProbeConfig {
  const mode = (options['mode'] as ProbeMode | undefined) ?? DEFAULT_CONFIG.mode;
  const promises = options['promises'] === true;
  // Metrics mode has no async hook for promises to go through: the flag was silently ignored.
  if (promises && mode === 'metrics') throw new UsageError('--promises applies to tasks and trace modes: add --mode tasks or --mode trace, or leave --promises out');
  return {
    mode,
    promises,
    intervalMs: (options['interval'] as number | undefined) ?? DEFAULT_CONFIG.intervalMs,
    blockThresholdMs: (options['block-threshold'] as number | undefined) ?? DEFAULT_CONFIG.blockThresholdMs,
    profile: options['no-profile'] !== true,
    sampleIntervalMs: (options['sample-interval'] as number | undefined) ?? DEFAULT_CONFIG.sampleIntervalMs,
  };
}

type Ending = { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null } | { kind: 'failed'; error: NodeJS.ErrnoException };

function exitCodeOf(ending: Extract<Ending, { kind: 'exited' }>): number {
  if (ending.code !== null) return ending.code;
  const signal = ending.signal ? osConstants.signals[ending.signal] : undefined;
  return signal ? 128 + signal : 1;
}

export async function runCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, RUN_OPTIONS, true);
  if (parsed.options['help']) {
    process.stdout.write(RUN_HELP.replace('{options}', describeOptions(RUN_OPTIONS)));
    return 0;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  const [command, ...args] = parsed.rest ?? [];
  if (!command) throw new UsageError('no command to run. Usage: loopscope run [options] -- <command> [args…], e.g. loopscope run -- node app.js');
  const config = configFrom(parsed.options);
  const json = parsed.options['json'] === true;
  const durationS = parsed.options['duration'] as number | undefined;

  const recording = recordOption(parsed.options);
  const server = await startProbeServer();
  const follow = parsed.options['no-follow'] !== true;
  // Every loop of the session shows this token: the command's process and its worker threads,
  // and, following, the processes below it (the token reaches them in the environment, so
  // a hello must also come from a descendant of the command: session-members.ts).
  let childPid: number | undefined;
  const { token } = server.issueSessionToken(follow ? descendantsOf(() => childPid) : oneProcess());
  const headless = parsed.options['headless'] === true;
  // Without following, the session is that one process already (oneProcess): no loop to wait for.
  const launched = follow ? () => childPid : undefined;
  const watch = new SessionWatch(server, { json, headless, durationS, status: `starting ${command}…`, launched, ...recording });
  const fleet = await watchFleet(parsed.options, watch);

  let child: ChildProcess;
  try {
    child = launch({
      command, args, config, token, follow,
      probeFile: probePath(),
      socketPath: server.address,
      // The command's output never passes through loopscope (so loopscope's death cannot break
      // its pipes): it has the terminal itself, with the live view below its output, or with
      // --json, loopscope's own stderr, whatever that is.
      stdio: json ? ['inherit', 2, 2] : 'inherit',
    });
  } catch (err) {
    await watch.abandon();
    await fleet?.stop();
    throw err;
  }
  childPid = child.pid;
  const reattach = headless ? reattachWhenLost(watch, server, config, () => child.exitCode === null && child.signalCode === null, fleetLog) : undefined;

  let stoppedByUs = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    stoppedByUs = true;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_TERM_MS);
  };
  const exited = new Promise<Ending>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'failed', error }));
    child.once('exit', (code, signal) => resolve({ kind: 'exited', code, signal }));
  });
  const ended = await watch.until(exited, {
    stop: (reason, signal, count) => {
      if (reason === 'duration') {
        watch.status = `stopping ${command} (--duration ${durationS} s reached)…`;
        return stop('SIGTERM');
      }
      watch.status = `stopping ${command}…${count > 1 ? ' (killed)' : ' (Ctrl-C again to kill it)'}`;
      if (count > 1) child.kill('SIGKILL');
      else stop(signal);
    },
    noProbe: { afterMs: NO_PROBE_WARNING_MS, status: `no probe has connected yet: is "${command}" a Node.js program (Node 18 or later)?` },
  });
  clearTimeout(killTimer);
  reattach?.stop();
  watch.launchedEnded();
  const ending: Ending = ended.kind === 'exited' && stoppedByUs ? { kind: 'exited', code: 0, signal: null } : ended;

  if (ending.kind === 'failed') {
    await watch.abandon();
    await fleet?.stop();
    const e = ending.error;
    if (e.code === 'ENOENT') {
      process.stderr.write(`loopscope: cannot start "${command}": command not found. Check the name, or give its full path.\n`);
      return 127;
    }
    if (e.code === 'EACCES') {
      process.stderr.write(`loopscope: cannot start "${command}": permission denied (is it executable?).\n`);
      return 126;
    }
    process.stderr.write(`loopscope: cannot start "${command}": ${e.message}\n`);
    return 126;
  }

  if (!watch.session) watch.warnings.push(`no probe connected: "${command}" did not load it. loopscope run works on Node.js programs (Node 18 or later), and the Node programs they start${follow ? '' : ' (without --no-follow)'}.`);
  const code = exitCodeOf(ending);
  await watch.finish({ exitCode: code, finalFramesMs: FINAL_FRAMES_MS });
  await fleet?.stop();
  return code;
}


/** --record <file>: opened before anything starts, so a bad path fails first, in one line. */
export function recordOption(options: Readonly<Record<string, unknown>>): { record?: RecordingWriter } {
  const path = options['record'];
  return typeof path === 'string' ? { record: RecordingWriter.create(path) } : {};
}
