// Production mode's log: one line on stderr per notable event (a probe connecting or going,
// a blocked loop, a worker thread the probe could not follow), which is where a container's
// logs are read. Blocked loops are rate-limited: a loop that blocks all the time must not flood
// the log; the lines left out are counted. So are notices past the first KEPT_NOTICES of a
// connection (a probe sends fewer; a crafted stream could send any number).

import type { BlockedReport, Hello } from '../../probe/wire';
import { blockedRecord } from '../fleet/blocked-log';
import { EndedBlocks } from '../fleet/loop-counters';
import { loopOf, type LoopIdentity } from '../fleet/loop-set';
import type { SessionWatch } from './session-watch';
import { gcObservedText, noticeText } from '../common/notice-text';
import { KEPT_NOTICES } from '../session/session-state';

/** Blocked-loop lines: a burst of this many, then one per BLOCKED_LINE_MS. */
const BLOCKED_BURST = 10;
const BLOCKED_LINE_MS = 1000;

export function logHeadlessEvents(watch: SessionWatch, log: (line: string) => void): void {
  let tokens = BLOCKED_BURST;
  let refilledAt = Date.now();
  let untold = 0;
  const blocked = (hello: Hello, identity: LoopIdentity, r: BlockedReport): void => {
    const now = Date.now();
    tokens = Math.min(BLOCKED_BURST, tokens + (now - refilledAt) / BLOCKED_LINE_MS);
    refilledAt = now;
    if (tokens < 1) {
      untold++;
      return;
    }
    tokens--;
    const more = untold > 0 ? ` (and ${untold} more blocks not logged)` : '';
    untold = 0;
    log(`process ${hello.pid}: ${blockedRecord(r, hello, identity).body}${more}`);
  };
  watch.onSession((source) => {
    const { hello } = source.connection;
    log(`probe connected: process ${hello.pid} (${hello.argv[1] ?? hello.argv[0] ?? 'node'}, node ${hello.nodeVersion}, ${hello.config.mode} mode)`);
    const { identity } = loopOf(source);
    const ended = new EndedBlocks();
    let notices = 0;
    source.onFrame((_raw, _at, m) => {
      const report = ended.first(m);
      if (report) blocked(hello, identity, report);
      else if (m.type === 'notice' && ++notices <= KEPT_NOTICES) log(`process ${hello.pid}: ${noticeText(m.notice)}`);
      else if (m.type === 'gcSource' && m.gc.source === 'observer') log(gcObservedText(hello, m.gc.reason));
      else if (m.type === 'goodbye') log(`process ${hello.pid}: probe stopping: ${m.goodbye.reason}${m.goodbye.exitCode === undefined ? '' : ` (exit code ${m.goodbye.exitCode})`}`);
    });
    source.connection.on('close', (error) => {
      const untoldNotices = notices > KEPT_NOTICES ? ` (and ${notices - KEPT_NOTICES} more notices not logged)` : '';
      log(`process ${hello.pid}: probe disconnected${error ? `: ${error}` : ''}${untoldNotices}`);
    });
  });
}
