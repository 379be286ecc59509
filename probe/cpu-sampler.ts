// The CPU sampler, driven from the probe's worker through its inspector session to the main
// thread: V8's profiler samples the main thread's stack on a signal (so its samples land inside
// native calls too), and one titled console profile is kept running for the probe's life.
//
// Harvests never stop the profiler: each starts the next title, then ends the previous one two
// intervals later (a sample still queued in V8's profiler thread at the switch lands in the
// overlap, which profile-table.ts drops by time). V8 keeps one profiler per session while any
// of its profiles runs, so only the first start pays for logging every compiled function
// (0.2–0.7 s with 50,000 of them, reported as the probe's own pause); a harvest costs the main
// thread 0.1–0.7 ms. The ended profile arrives as `Profiler.consoleProfileFinished`.
//
// Hazards (research: /work/research/profiler/REPORT.md §5):
// - another session with the Profiler domain on (DevTools) receives every console profile, and
//   runs a profiler of its own: profile ids, drawn from one counter for all sessions, then
//   step by 2 between the two profiles each start makes in one call (profile-control.ts).
//   Sampling pauses, and tries again later, less and less often. Not between harvests: the
//   counter is the whole process's, and the samplers of its other loops (worker threads) draw
//   from it too: compared across harvests, a process with workers looked always watched.
// - the target's own console.profile()/profileEnd() reach our session too: an untitled
//   profileEnd ends our latest profile (its samples are taken all the same, after those of the
//   one before it if that is still open, and a new one is started at once), and leaves theirs
//   running in our session, growing (some 16 bytes a sample). Once
//   it has run for FOREIGN_KEPT_MS the profiler is restarted (disable, enable) to drop it: not
//   at once, as a restart logs every compiled function again (the first start's pause) and
//   samples nothing until the main thread runs the new start.
// - with --cpu-prof, Node prints every console profile on the target's stderr: the main thread
//   does not start the sampler at all then (profile-control.ts).

import { PAIR_SUFFIX, PROFILE_CONTROL_KEY, ProfileOp, type ProfileCallResult, type ProfileOpId } from './profile-control';
import { HARVEST_SCRIPT, type ProfileTable, type V8Profile } from './profile-table';
import type { ProfileBatch, ProfilerState } from './wire';

export interface InspectorSession {
  post(method: string, params: object, callback: (err: Error | null, result?: unknown) => void): void;
  on(event: string, listener: (message: { params: unknown }) => void): void;
}

export interface SamplerEvents {
  /** A harvest, taken into the table: its samples, and the entries they need in `table.unsent()`. */
  readonly harvested: (batch: ProfileBatch) => void;
  readonly state: (state: ProfilerState) => void;
}

/** How often the samples are harvested, ms. */
export const HARVEST_MS = 1000;
/**
 * Harvests asked for by blocks come no more often than the regular ones: a server sharing its
 * CPU is "blocked" several times a second, and a harvest every 200 ms for each cost it 3% more
 * CPU per request (bench/http-throughput.mjs --concurrent). A block's report waits for its
 * samples a second at most.
 */
const MIN_GAP_MS = HARVEST_MS;
/** Between tries to sample again while another session profiles, ms: longer each time. */
const RESUME_AFTER_MS = [30_000, 60_000, 120_000, 300_000, 600_000];
/** A profile of the target's left running in our session is dropped (by a restart) after this long, ms: 15,000 samples at 20 ms. */
const FOREIGN_KEPT_MS = 300_000;
const TITLE = 'loopscope-probe-';

const sequenceOf = (title: string): number => Number.parseInt(title.slice(TITLE.length), 10);

const expression = (op: ProfileOpId, title: string): string =>
  `globalThis[Symbol.for(${JSON.stringify(PROFILE_CONTROL_KEY)})]?.(${op}, ${JSON.stringify(title)})\n//# sourceURL=${HARVEST_SCRIPT}`;

interface ConsoleProfileParams {
  readonly id?: string;
  readonly title?: string;
  readonly profile?: V8Profile;
}

export class CpuSampler {
  private intervalMs: number;
  private seq = 0;
  private running: string | undefined;
  private state: ProfilerState['state'] = 'off';
  private busy = false;
  private wanted = false;
  private lastHarvestMs = -Infinity;
  private awaiting: { title: string; nextStartMs: number } | undefined;
  /** The profile a harvest ends two intervals after it started the next one. */
  private ending: { title: string; nextStartMs: number; timer: NodeJS.Timeout } | undefined;
  /** A profile whose start is under way (the main thread has not answered yet). */
  private starting: string | undefined;
  /** That profile, ended by the target's untitled profileEnd before its start was answered. */
  private endedWhileStarting: string | undefined;
  /**
   * Profiles of ours that ended before an older one still open (the target's profileEnd ends
   * the newest): taken once that one is in, since the table keeps samples in time order only.
   */
  private held: { after: string; title: string; profile: V8Profile }[] = [];
  /** Moved on by a pause, a restart or a failure: a start answered after one must not run on. */
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private deferred: NodeJS.Timeout | undefined;
  private resume: NodeJS.Timeout | undefined;
  private resumes = 0;
  /** The id of our latest profile, for its pair's. */
  private lastOwnId: number | undefined;
  private foreignSteps = 0;
  /** The target's profiles running in our session: id → since when (ms). */
  private readonly foreignOpen = new Map<string, number>();
  /** The first start's clock readings, to check the profile's clock against (§2 of the research). */
  private firstBracket: { title: string; perfMs: number; hrBefore: number; hrAfter: number } | undefined;
  private finishing: (() => void) | undefined;
  /** The profile ended at exit: once it is in, `finish` is done. */
  private finalTitle: string | undefined;
  private stopped = false;
  private covered = 0;
  private firstOn: number | undefined;
  private onSince: number | undefined;

  constructor(private readonly session: InspectorSession, private readonly table: ProfileTable, intervalMs: number, private readonly events: SamplerEvents, private readonly nowMs: () => number) {
    this.intervalMs = intervalMs;
    session.on('Profiler.consoleProfileStarted', (m) => this.started(m.params as ConsoleProfileParams));
    session.on('Profiler.consoleProfileFinished', (m) => this.finished(m.params as ConsoleProfileParams));
  }

  /** Every sample before this time (main thread's clock, ms) has been harvested. */
  get coveredUntilMs(): number {
    return this.covered;
  }

  /** When sampling first began (main thread's clock, ms): undefined until it has. */
  get firstOnMs(): number | undefined {
    return this.firstOn;
  }

  /** When its current run began (main thread's clock, ms): undefined while it is not on. */
  get onSinceMs(): number | undefined {
    return this.onSince;
  }

  get active(): boolean {
    return this.state === 'on';
  }

  start(): void {
    if (this.stopped) return;
    // Busy until the first profile runs: a harvest starting one before the interval is set
    // would make V8 refuse the interval ("Cannot change sampling interval when profiling").
    this.busy = true;
    this.post('Profiler.enable', {}, () => {
      this.post('Profiler.setSamplingInterval', { interval: Math.round(this.intervalMs * 1000) }, () => this.startProfile(true));
    });
  }

  /** Asks for the samples up to now, soon (a block ended). */
  harvest(): void {
    if (this.state !== 'on' || this.finishing) return;
    if (this.busy) {
      this.wanted = true;
      return;
    }
    const wait = this.lastHarvestMs + MIN_GAP_MS - this.nowMs();
    if (wait > 0) {
      this.deferred ??= setTimeout(() => {
        this.deferred = undefined;
        this.harvest();
      }, wait);
      return;
    }
    const previous = this.running;
    if (!previous) return this.startProfile(false);
    this.busy = true;
    this.lastHarvestMs = this.nowMs();
    const next = this.title();
    const generation = this.generation;
    this.starting = next;
    this.call(ProfileOp.start, next, (r) => {
      this.starting = undefined;
      if (typeof r === 'string' || r === undefined) return this.fail(`the profiler did not start a profile: ${r ?? 'no answer'}`);
      if (this.stale(generation, next)) return;
      this.running = this.endedWhileStarting === next ? undefined : next;
      this.endedWhileStarting = undefined;
      const [nextStartMs] = r;
      // Ended two intervals later: a sample taken before the switch and still queued lands in both.
      this.ending = { title: previous, nextStartMs, timer: setTimeout(() => this.endPrevious(), 2 * this.intervalMs) };
      if (this.finishing) {
        this.endPrevious();
        this.endLast();
      }
    });
  }

  private endPrevious(): void {
    const ending = this.ending;
    if (!ending) return;
    clearTimeout(ending.timer);
    this.ending = undefined;
    this.awaiting = { title: ending.title, nextStartMs: ending.nextStartMs };
    // The ended profile comes (Profiler.consoleProfileFinished) before the evaluation's
    // answer: if it has not by then, it never will (the target's profileEnd ended it).
    // No timer: the main thread may be blocked for seconds before it runs the call.
    this.call(ProfileOp.end, ending.title, () => this.lost(ending.title));
  }

  /** At the target's exit: the last samples, then `done` (or after `timeoutMs`). */
  finish(timeoutMs: number, done: () => void): void {
    // With a harvest under way, its previous profile ends now too, not as planned: the thread
    // may be gone by then, and with it up to a second of samples (a worker's last blocks).
    this.endPrevious();
    this.clearTimers();
    if (this.state !== 'on' || (!this.running && !this.starting)) return done();
    const timeout = setTimeout(() => this.endFinish(), timeoutMs);
    this.finishing = () => {
      clearTimeout(timeout);
      done();
    };
    // A start under way: its answer ends what it started.
    if (!this.starting) this.endLast();
  }

  /** At exit: the running profile is the last. */
  private endLast(): void {
    const last = this.running;
    this.running = undefined;
    this.finalTitle = last;
    if (last) this.call(ProfileOp.end, last, () => undefined);
  }

  /** A start answered after a pause, a restart or a failure: what it started is ended at once. */
  private stale(generation: number, title: string): boolean {
    if (generation === this.generation) return false;
    this.call(ProfileOp.end, title, () => undefined);
    return true;
  }

  /** Turns sampling off for good (a new sampler starts it again): the profiles in our session end with the domain. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    if (this.state === 'off') return;
    this.state = 'off';
    this.onSince = undefined;
    this.post('Profiler.disable', {}, () => undefined);
  }

  private clearTimers(): void {
    clearInterval(this.timer);
    clearTimeout(this.deferred);
    this.deferred = undefined;
    clearTimeout(this.resume);
    clearTimeout(this.ending?.timer);
    this.ending = undefined;
  }

  private title(): string {
    return `${TITLE}${++this.seq}`;
  }

  private startProfile(first: boolean): void {
    const title = this.title();
    const generation = this.generation;
    this.busy = true;
    this.starting = title;
    this.call(first ? ProfileOp.firstStart : ProfileOp.start, title, (r) => {
      this.starting = undefined;
      if (typeof r === 'string' || r === undefined) {
        this.busy = false;
        return this.fail(`the profiler did not start: ${r ?? 'no answer'}`);
      }
      if (this.stale(generation, title)) return;
      this.busy = false;
      const endedAlready = this.endedWhileStarting === title;
      this.endedWhileStarting = undefined;
      if (endedAlready) return this.finishing ? this.endFinish() : this.startProfile(first);
      this.running = title;
      if (this.finishing) return this.endLast();
      this.covered = Math.max(this.covered, r[0]);
      if (first) this.firstBracket = { title, perfMs: (r[0] + r[1]) / 2, hrBefore: r[2], hrAfter: r[3] };
      if (this.state !== 'on') {
        this.state = 'on';
        this.onSince = r[0];
        this.firstOn ??= r[0];
        this.events.state({ state: 'on', intervalMs: this.intervalMs });
      }
      clearInterval(this.timer);
      this.timer = setInterval(() => this.harvest(), HARVEST_MS);
      this.lastHarvestMs = this.nowMs();
      if (this.wanted) {
        this.wanted = false;
        this.harvest();
      }
    });
  }

  private started(p: ConsoleProfileParams): void {
    if (this.stopped) return;
    const title = p.title ?? '';
    if (!title.startsWith(TITLE)) {
      if (p.id !== undefined) this.foreignOpen.set(p.id, this.nowMs());
      return;
    }
    const id = Number(p.id);
    if (!Number.isInteger(id)) return;
    if (!title.endsWith(PAIR_SUFFIX)) {
      this.lastOwnId = id;
      return;
    }
    // A pair's ids step by one unless another session of this thread got a profile too. Twice
    // in a row: another thread's sampler may, rarely, draw an id between the two.
    if (this.lastOwnId === undefined) return;
    this.foreignSteps = id - this.lastOwnId > 1 ? this.foreignSteps + 1 : 0;
    this.lastOwnId = undefined;
    if (this.foreignSteps >= 2 && this.state === 'on') this.pause();
  }

  private finished(p: ConsoleProfileParams): void {
    if (this.stopped) return;
    const title = p.title ?? '';
    if (!title.startsWith(TITLE)) {
      if (p.id !== undefined) this.foreignOpen.delete(p.id);
      return;
    }
    if (title.endsWith(PAIR_SUFFIX)) return;
    const older = this.olderOpen(title);
    if (p.profile && older !== undefined) this.held.push({ after: older, title, profile: p.profile });
    else if (p.profile) this.take(title, p.profile);
    this.releaseHeld(title);
    if (this.awaiting?.title === title) {
      this.covered = Math.max(this.covered, this.awaiting.nextStartMs);
      this.harvestDone();
    } else if (title === this.running) {
      // The target's own untitled profileEnd ended ours: another starts at once, or as soon as
      // the harvest under way is done (harvestDone).
      this.running = undefined;
      if (!this.busy && this.state === 'on' && !this.finishing) this.startProfile(false);
    } else if (title === this.starting) this.endedWhileStarting = title;
    if (title === this.finalTitle) this.endFinish();
  }

  /** An open profile of ours started before `title`, if there is one. */
  private olderOpen(title: string): string | undefined {
    const seq = sequenceOf(title);
    return [this.ending?.title, this.awaiting?.title, this.running].find((t) => t !== undefined && t !== title && sequenceOf(t) < seq);
  }

  /** `title` is in, or will never come: the newer profiles held for it are taken now, oldest first. */
  private releaseHeld(title: string): void {
    const due = this.held.filter((h) => h.after === title).sort((a, b) => sequenceOf(a.title) - sequenceOf(b.title));
    if (due.length === 0) return;
    this.held = this.held.filter((h) => h.after !== title);
    for (const h of due) this.take(h.title, h.profile);
  }

  private take(title: string, profile: V8Profile): void {
    try {
      const b = this.firstBracket;
      if (b && b.title === title) {
        this.firstBracket = undefined;
        // The profile's µs are process.hrtime's on every platform tried; where they are not,
        // its start stands for the moment it was started.
        if (profile.startTime < b.hrBefore - 1000 || profile.startTime > b.hrAfter + 1000) this.table.clockOffsetUs = profile.startTime - b.perfMs * 1000;
      }
      const batch = this.table.ingest(profile, Math.round(this.intervalMs * 1000));
      if (batch.count > 0) this.events.harvested(batch);
    } catch {
      // A profile we cannot read is a lost harvest, not a broken probe.
    }
  }

  private harvestDone(): void {
    this.awaiting = undefined;
    this.busy = false;
    if (this.finishing) return;
    const now = this.nowMs();
    if ([...this.foreignOpen.values()].some((since) => now - since >= FOREIGN_KEPT_MS)) return this.restart();
    // The target's profileEnd ended the profile the harvest started: not a second without samples.
    if (!this.running && !this.starting && this.state === 'on') return this.startProfile(false);
    if (this.wanted) {
      this.wanted = false;
      this.harvest();
    }
  }

  private lost(title: string): void {
    this.releaseHeld(title);
    if (this.awaiting?.title !== title) return;
    this.covered = Math.max(this.covered, this.awaiting.nextStartMs);
    this.harvestDone();
  }

  /** A profile of the target's own runs on in our session: drop it with the domain, and start again. */
  private restart(): void {
    this.generation++;
    this.foreignOpen.clear();
    // Ours ends first: its samples are taken when it comes (neither awaited nor running).
    const last = this.running;
    this.running = undefined;
    if (last) this.call(ProfileOp.end, last, () => undefined);
    // Busy until the new profile runs (start() keeps it so).
    this.busy = true;
    this.clearTimers();
    this.post('Profiler.disable', {}, () => this.start());
  }

  private pause(): void {
    this.generation++;
    this.state = 'paused';
    this.onSince = undefined;
    // Its samples are taken when it comes, but it is no harvest of ours.
    this.endPrevious();
    this.clearTimers();
    this.awaiting = undefined;
    this.busy = false;
    const last = this.running;
    this.running = undefined;
    if (last) this.call(ProfileOp.end, last, () => undefined);
    this.events.state({ state: 'paused', intervalMs: this.intervalMs, reason: 'another inspector session (a debugger such as DevTools) has the profiler on; sampling resumes when it is gone' });
    const after = RESUME_AFTER_MS[Math.min(this.resumes++, RESUME_AFTER_MS.length - 1)]!;
    this.resume = setTimeout(() => {
      this.foreignSteps = 0;
      this.lastOwnId = undefined;
      this.state = 'off';
      this.startProfile(true);
    }, after);
  }

  private fail(reason: string): void {
    // Once stopped (the session may be gone already), nothing has failed.
    if (this.stopped) return;
    this.generation++;
    this.busy = false;
    this.clearTimers();
    this.state = 'off';
    this.onSince = undefined;
    this.running = undefined;
    this.events.state({ state: 'off', intervalMs: this.intervalMs, reason });
  }

  private endFinish(): void {
    for (const h of [...this.held]) this.releaseHeld(h.after);
    const finishing = this.finishing;
    this.finishing = undefined;
    this.finalTitle = undefined;
    finishing?.();
  }

  private call(op: ProfileOpId, title: string, done: (r: ProfileCallResult | undefined) => void): void {
    this.post('Runtime.evaluate', { expression: expression(op, title), returnByValue: true, silent: true }, (result) => {
      const r = (result as { result?: { value?: unknown } } | undefined)?.result?.value;
      done(typeof r === 'string' || (Array.isArray(r) && r.length === 4 && r.every((x) => typeof x === 'number')) ? (r as ProfileCallResult) : undefined);
    });
  }

  /** Posts to the inspector; an error is a failed sampler, never a thrown one. */
  private post(method: string, params: object, done: (result: unknown) => void): void {
    try {
      this.session.post(method, params, (err, result) => {
        if (this.stopped) return;
        try {
          if (err) this.fail(`inspector: ${err.message}`);
          else done(result);
        } catch {
          // never into the worker's loop
        }
      });
    } catch (err) {
      this.fail(`inspector: ${(err as Error).message}`);
    }
  }
}
