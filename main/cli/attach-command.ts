// `loopscope attach <pid> [options]`: inject the probe into a running Node process, show its
// loop live (or print a JSON summary), and detach at the end: the probe turns itself off and
// the process runs on as before.

import { performance } from 'node:perf_hooks';
import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { configFrom, recordOption, SESSION_OPTIONS } from './run-command';
import { watchFleet } from './fleet-options';
import { SessionWatch, type StopReason } from './session-watch';
import { attachToProcess, type Attached } from '../attach/attach';
import { ATTACH_EXIT_CODES, AttachError } from '../attach/errors';
import { startProbeServer, type ProbeConnection } from '../server/probe-server';
import { probePath } from '../launch/probe-path';

const DEFAULT_TIMEOUT_S = 5;
/** After a detach, how long to wait for the probe's goodbye. */
const FINAL_FRAMES_MS = 1000;

export const ATTACH_OPTIONS: readonly OptionSpec[] = [
  ...SESSION_OPTIONS.map((o) => (o.name === 'duration' ? { ...o, description: 'detach after this long (the process keeps running)' } : o)),
  { name: 'timeout', kind: 'number', valueName: 'seconds', min: 0.5, max: 600, description: `give up attaching after this long (default ${DEFAULT_TIMEOUT_S})` },
];

export const ATTACH_HELP = `Usage: loopscope attach <pid> [options]

Injects the loopscope probe into a running Node.js process (Node 18 or later, started with
no special flags), shows its event loop live, and detaches at the end (--duration, or
Ctrl-C): the probe turns itself off and the process keeps running as before.

A process started with the probe preloaded (NODE_OPTIONS="--require <loopscope>/dist/probe.js")
keeps it dormant on a private socket: loopscope wakes it there, with no signal and no
inspector. Otherwise, loopscope opens the process's inspector (as \`kill -USR1\` would), loads
the probe through it, and closes it again, unless it was open before, and makes sure it stays
closed; Node prints "Debugger listening" and "Debugger attached" on the process's stderr while
that happens; nothing else is written to its output. \`loopscope ps\` lists the processes that
can be attached, and how.

Options:
{options}

Exit codes: 0 done, 2 bad usage, 3 no such process, 4 another user's process, 5 not Node.js,
6 inspector disabled (--disable-sigusr1, --permission, no SIGUSR1 handler), 7 inspector port
busy, 8 the process exited while attaching, 9 no answer in time, 10 already watched by another
loopscope, 11 the probe failed, 12 not attachable (too old, stopped), 13 inspector failed,
130 interrupted. After a session: 14 loopscope could not make sure the inspector it opened is
closed again, 15 another client connected to the inspector while loopscope had it open.

Examples:
  loopscope attach 12345
  loopscope attach 12345 --duration 10 --json > summary.json
`;

function parsePid(text: string | undefined): number {
  if (text === undefined) throw new UsageError('no PID. Usage: loopscope attach <pid>; `loopscope ps` lists the Node processes you can attach');
  if (!/^\d+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) throw new UsageError(`"${text}" is not a PID (a positive whole number)`);
  const pid = Number(text);
  if (pid === process.pid) throw new UsageError('that is loopscope itself');
  return pid;
}

/** Waits for the connection to end; resolves with why, when it was not clean. */
function closed(connection: ProbeConnection): Promise<string | undefined> {
  return new Promise((resolve) => connection.on('close', resolve));
}

function describeAttach(a: Attached, firstSampleMs: number | undefined): Record<string, unknown> {
  const round = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms));
  const i = a.inspector;
  return {
    attach: {
      via: a.via,
      // null when a dormant probe was woken: no inspector was opened.
      inspector: i ? {
        port: i.port, wasOpen: i.wasOpen, closed: i.closed, state: i.state, reopened: i.reopened,
        // The longest it can have listened: from the signal to when it was seen closed.
        openMs: round(i.openMs),
        otherClients: i.others.map((p) => ({ port: p.port, pid: p.pid ?? null })),
        // Connections not loopscope's that were gone before they could be seen: whose is not known.
        cameAndWent: i.cameAndWent.map((e) => ({ address: e.address, port: e.port })),
      } : null,
      // ms since loopscope started: how long each step took to be reached.
      timingsMs: {
        checked: round(a.timings.checkedMs),
        signalled: round(a.timings.signalledMs),
        inspectorOpen: round(a.timings.inspectorOpenMs),
        injected: round(a.timings.injectedMs),
        connected: round(a.timings.connectedMs),
        firstSample: round(firstSampleMs),
      },
    },
  };
}

export async function attachCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, ATTACH_OPTIONS);
  if (parsed.options['help']) {
    process.stdout.write(ATTACH_HELP.replace('{options}', describeOptions(ATTACH_OPTIONS)));
    return 0;
  }
  if (parsed.rest !== undefined) throw new UsageError('attach takes a PID, not a command; to start a command with the probe, use loopscope run');
  if (parsed.positionals.length > 1) throw new UsageError(`unexpected argument "${parsed.positionals[1]}"`);
  const pid = parsePid(parsed.positionals[0]);
  const config = configFrom(parsed.options);
  const json = parsed.options['json'] === true;
  const durationS = parsed.options['duration'] as number | undefined;
  const timeoutMs = ((parsed.options['timeout'] as number | undefined) ?? DEFAULT_TIMEOUT_S) * 1000;

  const recording = recordOption(parsed.options);
  const server = await startProbeServer();
  const headless = parsed.options['headless'] === true;
  // The server is this attach's: it admits only probes with a token the attach issued (a
  // probe in a container says another PID in its hello).
  const watch = new SessionWatch(server, { json, headless, durationS, status: `attaching to process ${pid}…`, ...recording });
  const fleet = await watchFleet(parsed.options, watch);
  let firstSampleMs: number | undefined;
  watch.onSession((s) => s.onFrame((_raw, _at, m) => {
    if (m.type === 'metrics' && firstSampleMs === undefined) firstSampleMs = performance.now();
  }));

  // Ctrl-C while attaching: stop, and close the inspector if we opened it.
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let attached: Attached;
  try {
    attached = await attachToProcess({
      pid, server, config, timeoutMs,
      probeFile: probePath(),
      signal: abort.signal,
      onProgress: (status) => {
        watch.status = status;
        watch.redraw();
      },
    });
  } catch (err) {
    await watch.abandon();
    await fleet?.stop();
    if (err instanceof AttachError) {
      process.stderr.write(`loopscope attach: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  for (const w of attached.warnings) {
    watch.warnings.push(w);
    // Also with --json: stdout has the summary, and these must not wait for it.
    process.stderr.write(`loopscope attach: warning: ${w}\n`);
  }

  const { connection } = attached;
  const stop = (reason: StopReason, count: number): void => {
    if (count > 1) {
      // The probe also turns itself off when its connection goes.
      watch.status = 'disconnected';
      return connection.destroy();
    }
    watch.status = `detaching from process ${pid}${reason === 'duration' ? ` (--duration ${durationS} s reached)` : ''}…`;
    watch.redraw();
    void connection.detach();
  };
  // Ctrl-C while attach made sure the inspector stayed closed (the probe was in by then).
  if (abort.signal.aborted) stop('signal', 1);
  await watch.until(closed(connection), { stop: (reason, _signal, count) => stop(reason, count + (abort.signal.aborted ? 1 : 0)) });
  const goodbye = watch.session?.state.goodbye;
  const exitCode = goodbye?.exitCode ?? null;
  if (goodbye && goodbye.reason !== 'detached') {
    watch.warnings.push(`process ${pid} exited during the session${exitCode === null ? '' : ` with code ${exitCode}`}`);
  }
  await watch.finish({ exitCode, finalFramesMs: FINAL_FRAMES_MS, extra: describeAttach(attached, firstSampleMs) });
  await fleet?.stop();
  return attached.problem ? ATTACH_EXIT_CODES[attached.problem] : 0;
}
