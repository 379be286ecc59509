// A replayed loop's blocks as the file ends them. Live, a block shows the duration, stack and
// place it had so far until its final report comes, a second or so after it ends; a replay's
// file already holds that report (the mark scanner found it, replay-marks.ts), so a block shows
// one of each from the moment it is reported. Pure.

import type { BlockedReport } from '../../probe/wire';
import { applyMessage, type SessionState } from '../session/session-state';

/**
 * `state` with each block still going on in it as its final report has it, applied as that
 * report would be when it comes: in a replay the file already holds it, and a block is to show
 * one duration, stack and place from the moment it is reported, not the figures it had so far.
 */
export function withFinalReports(state: SessionState, finals: ReadonlyMap<number, BlockedReport>): SessionState {
  let out = state;
  for (const b of state.blocked) {
    const final = b.state === 'ongoing' ? finals.get(b.id) : undefined;
    if (final) out = applyMessage(out, { type: 'blocked', report: final });
  }
  return out;
}
