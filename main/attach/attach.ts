// Attaching to a running Node process (DESIGN.md, "Attaching to a running process"):
// check it is Node and handles SIGUSR1, open its inspector, confirm the inspector is that
// process's, inject the probe with a one-time token, close the inspector again unless it was
// open before, and hand over the probe's connection. Every failure is an AttachError.

import { performance } from 'node:perf_hooks';
import type { ProbeConfig } from '../../probe/wire';
import type { ProbeConnection, ProbeServer } from '../server/probe-server';
import { AttachError } from './errors';
import { CdpClient, listTargets, warmUp, type InspectorTarget } from './inspector-client';
import { closeNow, closeRequest, exitsSoon, inspectorAt, LIST_TIMEOUT_MS, OPEN_POLL_MS, POLL_MS, sleep, type FoundInspector } from './inspector-ops';
import { hasExited } from '../system/process-exited';
import { addressesConflict, connectHost, hostForUrl, websocketUrl } from './inspector-address';
import { injectExpression, parseInjectResult, targetNowOf } from './inject';
import type { InspectorSettings } from './node-args';
import { decideAttachable, verdictError, type AttachVia } from './process-info';
import { processSource, type Listener, type Peer, type ProcessSource } from './process-source';
import type { ClientEnd } from './proc-parse';
import { LATE_CLOSE_WAIT_MS, spawnLateCloser } from './late-close';
import { closeAndConfirm, type CloseResult, type CloseState } from './inspector-close';
import { needsWatch, reportClose, type InspectorProblem } from './inspector-report';
import { targetTimeAfter, twoSamplesAfter, type ClockLink } from './loop-turns';
import { whyNoInspector } from './no-inspector';
import { abortable, connectionWith, within } from './probe-connection';
import { oneProcess } from './session-members';
import { wakeDormantProbe } from './attach-dormant';

export interface AttachRequest {
  readonly pid: number;
  readonly server: ProbeServer;
  readonly config: ProbeConfig;
  readonly probeFile: string;
  /** The whole attach, up to the probe's hello, must take no longer. */
  readonly timeoutMs: number;
  readonly source?: ProcessSource;
  /** Aborting (Ctrl-C) stops the attach, closes what it opened, and throws 'interrupted'. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (status: string) => void;
}

/** When each step finished, in ms on this process's performance clock. */
export interface AttachTimings {
  readonly startedMs: number;
  readonly checkedMs: number;
  /** SIGUSR1 sent; undefined when the inspector was open already, or not used. */
  readonly signalledMs: number | undefined;
  /** Undefined when the inspector was not used (a dormant probe was woken). */
  readonly inspectorOpenMs: number | undefined;
  /** The probe was told to start (injected, or woken). */
  readonly injectedMs: number;
  readonly connectedMs: number;
}

export interface InspectorUse {
  readonly host: string;
  readonly port: number;
  /** It was open before loopscope came, so loopscope left it open. */
  readonly wasOpen: boolean;
  /** What became of it (inspector-close.ts); 'left-open' when it was open before. */
  readonly state: CloseState | 'left-open';
  /** loopscope closed it, and made sure it stayed closed. */
  readonly closed: boolean;
  /** How often it opened again after a close (SIGUSR1's pending wake-up), and was closed again. */
  readonly reopened: number;
  /** Other clients seen connected to it while loopscope had it open. */
  readonly others: readonly Peer[];
  /** Other clients whose connections came and went before they could be seen (inspector-close.ts). */
  readonly cameAndWent: readonly ClientEnd[];
  /** From the signal to when it was seen closed: the longest it can have listened, ms. */
  readonly openMs: number | undefined;
}

export interface Attached {
  readonly connection: ProbeConnection;
  readonly nodeVersion: string | undefined;
  readonly via: AttachVia;
  /** Undefined when a dormant probe was woken: no inspector was opened. */
  readonly inspector: InspectorUse | undefined;
  readonly timings: AttachTimings;
  readonly warnings: readonly string[];
  /** The inspector part failed (its warnings say how): the attach should end with this code. */
  readonly problem: InspectorProblem | undefined;
}

/** How long the target has to close its inspector once asked: its loop must turn twice. */
const TARGET_CLOSE_MS = 2000;

/** How long to wait for the probe's samples to show that the loop turned after the close. */
function loopTurnTimeoutMs(config: ProbeConfig): number {
  return Math.min(10_000, 3000 + 2 * config.intervalMs);
}

function myUid(): number | undefined {
  return typeof process.geteuid === 'function' ? process.geteuid() : undefined;
}

export async function attachToProcess(req: AttachRequest): Promise<Attached> {
  const { pid } = req;
  const startedMs = performance.now();
  const deadline = startedMs + req.timeoutMs;
  const source = req.source ?? processSource();
  const progress = req.onProgress ?? (() => undefined);
  const warnings: string[] = [];
  const timeoutSeconds = `${(req.timeoutMs / 1000).toFixed(1)} s`;

  const checkAbort = (): void => {
    if (req.signal?.aborted) throw new AttachError('interrupted', `attaching to process ${pid} was interrupted.`);
  };
  const checkTime = (what: string): void => {
    checkAbort();
    if (performance.now() > deadline) throw new AttachError('timeout', `process ${pid} did not answer in time: ${what} within ${timeoutSeconds} (its main thread may be blocked); try again, or raise --timeout.`);
  };
  const exitedError = (): AttachError => new AttachError('target-exited', `process ${pid} exited while loopscope was attaching to it.`);

  // 1. Is it Node, ours, and does it handle SIGUSR1? Nothing is sent to it before this says yes.
  progress(`checking process ${pid}…`);
  const info = await source.get(pid);
  // Both only read; the listeners are needed once the process passes the checks.
  const [version, ownBefore] = await Promise.all([
    info.isNode ? source.nodeVersion(info) : Promise.resolve(undefined),
    info.isNode ? source.listenersOf(pid) : Promise.resolve([]),
  ]);
  const verdict = decideAttachable(info, myUid(), version);
  const refusal = verdictError(pid, verdict);
  if (refusal || !verdict.attachable) throw refusal;
  if (info.probeFile) {
    throw new AttachError('already-attached', `process ${pid} already has a loopscope probe, connected to another loopscope; stop that one (Ctrl-C) and attach again.`);
  }
  checkAbort();
  // The process's worker threads join with the same token (attach stays one process).
  const { token } = req.server.issueSessionToken(oneProcess());
  const connected = connectionWith(req.server, token);
  if (verdict.via === 'probe') {
    // 2'. A dormant probe is inside already: wake it, with no signal and no inspector.
    return wakeDormantProbe({ ...req, address: info.wakeSocket!, token, connected, startedMs, deadline, nodeVersion: version?.text });
  }
  const settings = verdict.settings;

  // 2. Find its inspector: open already, or opened now by SIGUSR1.
  let found = await findOpenInspector(ownBefore, settings);
  const wasOpen = found !== undefined;
  const checkedMs = performance.now();
  let signalledMs: number | undefined;
  /** Connections to the inspector's port the tables show before the signal: none of this opening's clients. */
  let endsBefore: readonly ClientEnd[] | undefined;
  let client: CdpClient | undefined;
  let injected = false;
  let closing: Promise<CloseResult> | undefined;

  /** Closes what we opened, makes sure it stays closed, and says how that went. */
  const close = (job: { askedFrom: number | undefined; clock: ClockLink | undefined }): Promise<CloseResult> => {
    const open = found!;
    return closeAndConfirm({
      source, pid, host: open.host, address: open.address, port: open.port,
      askedFrom: job.askedFrom,
      endsBefore,
      timeoutMs: TARGET_CLOSE_MS,
      loopTurned: (sinceMs) => {
        const { clock } = job;
        // No probe to watch: the loop is given a while to turn, without proof that it did.
        if (!clock) return sleep(TARGET_CLOSE_MS).then(() => false);
        return twoSamplesAfter(connected, targetTimeAfter(clock, sinceMs), loopTurnTimeoutMs(req.config));
      },
    });
  };
  const report = (r: CloseResult | undefined): { use: InspectorUse | undefined; problem: InspectorProblem | undefined } => {
    if (!found && !r) {
      // It did not open yet: the SIGUSR1 stays pending, and it would open later.
      if (signalledMs !== undefined) warnLate(settings.port);
      return { use: undefined, problem: undefined };
    }
    const open = found!;
    if (!r) return { use: { host: open.host, port: open.port, wasOpen: true, state: 'left-open', closed: false, reopened: 0, others: [], cameAndWent: [], openMs: undefined }, problem: undefined };
    const watching = needsWatch(r.state) && watchLate(open.port);
    const openMs = r.closedAtMs !== undefined && signalledMs !== undefined ? r.closedAtMs - signalledMs : undefined;
    const told = reportClose(pid, `${hostForUrl(open.host)}:${open.port}`, r, openMs, watching);
    warnings.push(...told.warnings);
    return {
      use: { host: open.host, port: open.port, wasOpen: false, state: r.state, closed: r.state === 'closed', reopened: r.reopened, others: r.others, cameAndWent: r.cameAndWent, openMs },
      problem: told.problem,
    };
  };
  const watchLate = (port: number): boolean =>
    spawnLateCloser({ pid, host: settings.host, port, knownPorts: ownBefore.map((l) => l.port), untilMs: Date.now() + LATE_CLOSE_WAIT_MS });
  const warnLate = (port: number): void => {
    warnings.push(watchLate(port)
      ? `its inspector may still open on port ${port || '(unknown)'} once the process is free; a background loopscope (for up to ${LATE_CLOSE_WAIT_MS / 60_000} min) will close it then`
      : `its inspector may still open on port ${port || '(unknown)'} once the process is free, and stay open`);
  };

  const cleanUp = async (): Promise<void> => {
    // A probe that connects after a failure (or a Ctrl-C) is not ours to keep: it turns itself
    // off. Not before the inspector's close is confirmed, which takes its samples.
    if (closing) report(await closing);
    if (injected) void connected.then((c) => c.destroy());
    if (closing) return;
    client?.close();
    if (signalledMs === undefined || wasOpen) return;
    if (hasExited(pid)) return;
    // We opened it, or it will open: close it again, whatever went wrong.
    report(found ? await close({ askedFrom: undefined, clock: undefined }) : undefined);
  };

  try {
    if (!found) {
      if (settings.port !== 0) await refuseIfPortBusy(source, pid, settings);
      progress(`opening the inspector of process ${pid}…`);
      await warmUp();
      // Just before the signal: the PID may have been freed and reused since the check.
      const again = await source.get(pid).catch(() => undefined);
      if (!again || again.exe !== info.exe || !decideAttachable(again, myUid(), version).attachable) throw exitedError();
      const threadAtSignal = await source.mainThread(pid);
      // A port the kernel picks when it opens is new: no connection to it can be older.
      endsBefore = settings.port === 0 ? [] : await source.clientEndsOf(pid, settings.host, settings.port).catch(() => undefined);
      const signalled = performance.now();
      signalledMs = signalled;
      sendDebugSignal(pid);
      found = await waitForInspector(source, pid, settings, ownBefore, async () => {
        if (hasExited(pid)) throw exitedError();
        checkAbort();
        if (performance.now() <= deadline) return;
        const why = whyNoInspector(threadAtSignal, await source.mainThread(pid), performance.now() - signalled);
        throw new AttachError('timeout', `process ${pid} did not answer in time: its inspector did not open within ${timeoutSeconds}; ${why.reason}; ${why.hint}.`);
      });
    }
    const inspectorOpenMs = performance.now();
    const open = found;

    // 3. Confirm the PID, inject, and (when we opened it) schedule the close: one round trip.
    progress(`injecting the probe into process ${pid}…`);
    const remaining = (): number => Math.max(1, deadline - performance.now());
    try {
      client = await CdpClient.connect(websocketUrl(open.target.webSocketDebuggerUrl, open.host, open.port), remaining());
    } catch (err) {
      if (await exitsSoon(pid)) throw exitedError();
      throw new AttachError('inspector-failed', `cannot talk to the inspector of process ${pid} on port ${open.port}: ${(err as Error).message}.`);
    }
    const c = client;
    const expression = injectExpression({
      pid, probeFile: req.probeFile, socketPath: req.server.address, token, config: req.config,
      ...(wasOpen ? {} : { close: closeRequest(open, c) }),
    });
    const sentMs = performance.now();
    // Only the injection into an inspector that was open already returns a promise (inject.ts).
    const evaluated = await abortable(c.evaluate(expression, remaining(), wasOpen), req.signal)
      .catch(async (err: unknown) => {
        if (err instanceof AttachError) throw err;
        // A process exiting with a session connected waits for it to leave ("Waiting for the
        // debugger to disconnect..."): ours leaves first.
        c.close();
        if (await exitsSoon(pid)) throw exitedError();
        checkTime('its inspector did not run the probe');
        throw new AttachError('inspector-failed', `the inspector of process ${pid} failed: ${(err as Error).message}.`);
      });
    const outcome = parseInjectResult(evaluated.value);
    if (evaluated.exception !== undefined) throw new AttachError('probe-failed', `the probe could not be loaded into process ${pid}: ${evaluated.exception}.`);
    if (outcome.kind === 'wrong-process') {
      throw new AttachError('port-busy', `the inspector on port ${open.port} belongs to process ${outcome.pid}, not ${pid}; stop that process's inspector and try again.`);
    }
    // Close it now, and again two loop turns later (asked for by the injection): the probe
    // starts right after the close.
    if (wasOpen) c.close();
    else closeNow(c, pid, closeRequest(open, c));
    const targetMs = targetNowOf(evaluated.value);
    const clock = targetMs === undefined ? undefined : { sentMs, targetMs };
    closing = wasOpen ? undefined : close({ askedFrom: c.localPort, clock });
    if (outcome.kind === 'already-running') {
      throw new AttachError('already-attached', `process ${pid} already has a loopscope probe (${outcome.version}), connected to another loopscope; stop that one (Ctrl-C) and attach again.`);
    }
    if (outcome.kind === 'failed') throw new AttachError('probe-failed', `the probe could not start in process ${pid}: ${outcome.error}.`);
    injected = true;
    const startsLater = outcome.kind === 'scheduled';
    const injectedMs = performance.now();

    // 4. The probe connects while the inspector closes.
    progress(wasOpen ? `waiting for the probe in process ${pid}…` : `closing the inspector of process ${pid}…`);
    const connection = await within(connected, remaining(), () => (hasExited(pid) ? exitedError() : new AttachError('probe-failed', startsLater
      ? `the probe was to start in process ${pid} once its inspector closed, but did not connect back within ${timeoutSeconds}; run \`loopscope attach\` again to see why it could not start.`
      : `the probe started in process ${pid} but did not connect back within ${timeoutSeconds}.`)), req.signal);
    const connectedMs = performance.now();
    const { use, problem } = report(closing ? await closing : undefined);
    return {
      connection,
      nodeVersion: version?.text ?? connection.hello.nodeVersion,
      via: 'inspector',
      inspector: use,
      timings: { startedMs, checkedMs, signalledMs, inspectorOpenMs, injectedMs, connectedMs },
      warnings,
      problem,
    };
  } catch (err) {
    await cleanUp();
    if (err instanceof AttachError && warnings.length > 0) throw new AttachError(err.code, `${err.message} Warning: ${warnings.join('; ')}.`);
    throw err;
  }
}

/** The inspector, if the process already has one open (from --inspect, or opened before). */
async function findOpenInspector(own: readonly Listener[], settings: InspectorSettings): Promise<FoundInspector | undefined> {
  const onPort = own.filter((l) => l.port === settings.port);
  // With --inspect=0, or a command line that process.title overwrote, the port is not known.
  const candidates = onPort.length > 0 || !settings.openAtStart ? onPort : own;
  for (const l of candidates) {
    const found = await inspectorAt(l);
    if (found) return found;
  }
  if (onPort.length > 0) {
    throw new AttachError('port-busy', `port ${settings.port}, where the inspector would open, is taken by the process itself (not by an inspector); use \`loopscope run\` to start it with the probe instead.`);
  }
  return undefined;
}

async function refuseIfPortBusy(source: ProcessSource, pid: number, settings: InspectorSettings): Promise<void> {
  const holders = (await source.listenersOnPort(settings.port, pid)).filter((l) => addressesConflict(l.address, settings.host));
  // The process's own listener there was looked at by findOpenInspector already.
  const holder = holders.find((l) => l.pid !== pid);
  if (!holder) return;
  const who = holder.pid === undefined
    ? 'a process of another user'
    : `process ${holder.pid}${await source.describe(holder.pid).then((c) => (c ? ` (${truncate(c, 80)})` : ''), () => '')}`;
  throw new AttachError('port-busy', `the inspector port ${settings.port} of process ${pid} is in use by ${who}; free that port (stop that process or its inspector) and try again.`);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function sendDebugSignal(pid: number): void {
  try {
    // On POSIX this is kill(pid, SIGUSR1); on Windows, Node's own remote-thread mechanism.
    (process as unknown as { _debugProcess(pid: number): void })._debugProcess(pid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new AttachError('target-exited', `process ${pid} exited while loopscope was attaching to it.`);
    if (code === 'EPERM') throw new AttachError('not-permitted', `not allowed to signal process ${pid}; run loopscope as the user who owns it.`);
    throw new AttachError('inspector-failed', `cannot open the inspector of process ${pid}: ${(err as Error).message}.`);
  }
}

/**
 * Polls until the process's inspector answers. With a known port, polling is a connection
 * attempt (refused until it opens: much cheaper than reading the kernel's socket tables, which
 * take milliseconds), and an inspector that answers is taken at once: the injection checks it
 * is the process's own (process.pid), so nothing slow runs while it listens. Something else
 * answering is looked up in the socket tables: another process's listener on the port means
 * the inspector could not bind. With port 0, new listening ports of the process are tried.
 */
async function waitForInspector(
  source: ProcessSource, pid: number, settings: InspectorSettings, ownBefore: readonly Listener[], check: () => Promise<void>,
): Promise<FoundInspector> {
  const before = new Set(ownBefore.map((l) => `${l.address}:${l.port}`));
  const host = connectHost(settings.host);
  // A port held by someone else must be seen twice: a target that exits right after its
  // inspector opens leaves the listening socket behind it for a moment, owned by no one.
  let foreignBefore = false;
  for (;;) {
    await check();
    let candidates: Listener[] = [];
    if (settings.port === 0) {
      candidates = (await source.listenersOf(pid)).filter((l) => !before.has(`${l.address}:${l.port}`));
    } else {
      const listed = await listTargets(host, settings.port, LIST_TIMEOUT_MS).then(
        (targets): readonly InspectorTarget[] | 'refused' | 'other' => targets,
        (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? 'refused' : 'other'),
      );
      if (typeof listed !== 'string') return { host, address: settings.host, port: settings.port, target: listed[0]! };
      if (listed === 'other') candidates = (await source.listenersOnPort(settings.port, pid)).filter((l) => addressesConflict(l.address, settings.host));
    }
    const foreign = candidates.find((l) => l.pid !== pid);
    if (foreign && foreignBefore) {
      const who = foreign.pid === undefined ? 'a process of another user' : `process ${foreign.pid}`;
      throw new AttachError('port-busy', `the inspector of process ${pid} could not open: ${who} took port ${settings.port} first; free that port and try again.`);
    }
    foreignBefore = foreign !== undefined;
    for (const l of candidates.filter((c) => c.pid === pid)) {
      const found = await inspectorAt(l);
      if (found) return found;
    }
    await sleep(settings.port === 0 ? POLL_MS : OPEN_POLL_MS);
  }
}
