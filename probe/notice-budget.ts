// How many notices the probe sends: a process that starts thousands of workers the probe
// cannot go into must not flood loopscope with the same news. Past the budget, notices are
// dropped and counted with the probe's other drops. Pure.

/** Notices a second, at most. */
export const NOTICES_PER_SECOND = 4;
/** Notices a probe sends in all, at most. */
export const NOTICES_IN_ALL = 32;

export class NoticeBudget {
  private windowStartMs = -Infinity;
  private inWindow = 0;
  private sent = 0;

  constructor(private readonly perSecond = NOTICES_PER_SECOND, private readonly inAll = NOTICES_IN_ALL) {}

  /** Whether one more notice may go now (and it is counted as gone). */
  take(nowMs: number): boolean {
    if (this.sent >= this.inAll) return false;
    if (nowMs - this.windowStartMs >= 1000) {
      this.windowStartMs = nowMs;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perSecond) return false;
    this.inWindow++;
    this.sent++;
    return true;
  }
}
