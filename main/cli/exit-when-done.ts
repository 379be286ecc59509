// A finished command exits even when something of loopscope's own was left open by mistake (a
// timer, a socket): a command that has printed its result and does not return hangs its user's
// terminal and CI. Its output is flushed first, however slowly it is read; then, if the process
// still lives after a grace period, it names what is left open on stderr, so that the mistake
// can be found, and exits.

import { exitHoldsSettled } from '../system/exit-holds';

/** How long a finished command may take to close the last of its handles by itself. */
export const EXIT_GRACE_MS = 2000;

const givenUp: string[] = [];

/**
 * Work a command gave up on at its end, on purpose and said (a push to a receiver that does not
 * answer): its handles are not a mistake, so the command exits once its output is out.
 */
export function leaveBehindAtExit(what: string): void {
  givenUp.push(what);
}

export function exitWhenDone(code: number): void {
  process.exitCode = code;
  // Held work first (an inspector connection waiting for the target's last answer): each is
  // bounded, and cutting it short could crash the target (attach/inspector-client.ts).
  void exitHoldsSettled().then(() => flushAndExit(code));
}

function flushAndExit(code: number): void {
  process.stdout.write('', () => {
    if (givenUp.length > 0) {
      process.stderr.write('', () => process.exit(code));
      return;
    }
    setTimeout(() => {
      const open = process.getActiveResourcesInfo();
      process.stderr.write(`loopscope: still running ${EXIT_GRACE_MS / 1000} s after it finished (left open: ${open.join(', ') || 'nothing Node names'}); exiting\n`, () => process.exit(code));
    }, EXIT_GRACE_MS).unref();
  });
}
