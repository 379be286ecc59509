// The exporters and production mode on `run` and `attach`: their options, and the wiring of a
// watched session's loops into main/fleet. The OpenTelemetry packages load only when an
// exporter is asked for, so every other command starts as fast as before.

import { resolve } from 'node:path';
import type { OptionSpec, OptionValues } from './args';
import { UsageError } from './args';
import { checkResourceAttributes, exportIntervalMs, FleetConfigError, listenAddress, otlpSettings } from '../fleet/fleet-config';
import { loopOf, LoopSet } from '../fleet/loop-set';
import type { SessionWatch } from './session-watch';
import type { FleetExporter } from '../fleet/fleet-exporter';
import { logHeadlessEvents } from './headless-events';
import { makeRecordingDir } from '../recording/recording-dir';
import { fsReason } from '../recording/errors';
import { leaveBehindAtExit } from './exit-when-done';

const DEFAULT_RECORD_CAP_MB = 1024;

export const FLEET_OPTIONS: readonly OptionSpec[] = [
  { name: 'prometheus', kind: 'string', valueName: '[host:]port', description: 'serve Prometheus metrics at /metrics: a port alone listens on this machine only, :port on every interface' },
  { name: 'otlp', kind: 'string', valueName: 'url', description: 'push OTLP/HTTP metrics, and blocked loops as log records, to this receiver (e.g. http://localhost:4318; "env": OTEL_EXPORTER_OTLP_ENDPOINT)' },
  { name: 'headless', kind: 'flag', description: 'for production: no live view, no summary unless --json, one line per event on stderr; only the program ending ends it' },
  { name: 'record-dir', kind: 'string', valueName: 'dir', description: 'record on demand into <dir>: SIGUSR2, or POST /recording/start and /recording/stop on the --prometheus port, starts and stops' },
  { name: 'record-cap', kind: 'number', valueName: 'MB', min: 1, description: `keep at most this much in --record-dir, deleting the oldest recordings first (default ${DEFAULT_RECORD_CAP_MB})` },
];

export interface Fleet {
  stop(): Promise<void>;
}

/**
 * The fleet's lines go to stderr: on a terminal they scroll with the program's output, above
 * the live view; headless, they are the log.
 */
export function fleetLog(line: string): void {
  process.stderr.write(`loopscope: ${line}\n`);
}

/**
 * The exporters and production mode's log on a watch (run and attach); undefined when none
 * is asked for. On a bad setting, the watch is abandoned and a UsageError says what is wrong.
 */
export async function watchFleet(options: OptionValues, watch: SessionWatch): Promise<Fleet | undefined> {
  if (options['headless'] === true) logHeadlessEvents(watch, fleetLog);
  try {
    return await startFleet(options, watch);
  } catch (err) {
    await watch.abandon();
    throw err;
  }
}

async function startFleet(options: OptionValues, watch: SessionWatch): Promise<Fleet | undefined> {
  const prometheus = options['prometheus'] as string | undefined;
  const otlp = options['otlp'] as string | undefined;
  const recordDir = options['record-dir'] as string | undefined;
  const capMb = (options['record-cap'] as number | undefined) ?? DEFAULT_RECORD_CAP_MB;
  if (options['record-cap'] !== undefined && recordDir === undefined) throw new UsageError('--record-cap needs --record-dir <dir>');
  if (recordDir !== undefined) {
    try {
      makeRecordingDir(resolve(recordDir));
    } catch (err) {
      throw new UsageError(`--record-dir ${recordDir}: cannot make that folder: ${fsReason(err)}`);
    }
  }
  // Headless, SIGUSR2 must not end loopscope (its default action), recording asked for or not.
  if (prometheus === undefined && otlp === undefined && recordDir === undefined && options['headless'] !== true) return undefined;
  const log = fleetLog;
  let fleet: FleetExporter;
  const loops = new LoopSet();
  try {
    checkResourceAttributes(process.env);
    const settings = {
      ...(prometheus === undefined ? {} : { prometheus: listenAddress(prometheus) }),
      ...(otlp === undefined ? {} : { otlp: otlpSettings(otlp, process.env) }),
      ...(recordDir === undefined ? {} : { recording: { dir: resolve(recordDir), capBytes: capMb * 1e6 } }),
      intervalMs: exportIntervalMs(process.env),
      log,
    };
    const { FleetExporter } = await import('../fleet/fleet-exporter');
    fleet = await FleetExporter.start(loops, settings);
  } catch (err) {
    if (err instanceof FleetConfigError) throw new UsageError(err.message);
    throw err;
  }
  watch.onLoop((source) => {
    const loop = loopOf(source);
    loops.add(loop);
    source.connection.on('close', () => loops.remove(loop));
  });
  const onSignal = (): void => {
    if (fleet.recording) void fleet.recording.toggle();
    else log('SIGUSR2 asks for a recording, but there is no --record-dir to record into');
  };
  process.on('SIGUSR2', onSignal);
  return {
    stop: async () => {
      process.off('SIGUSR2', onSignal);
      for (const what of await fleet.shutdown()) leaveBehindAtExit(what);
    },
  };
}
