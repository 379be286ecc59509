// A session fed with messages, as a live probe or a recording would feed it.

import { SessionFeed } from '../../main/session/session-feed';
import type { ProbeMessage } from '../../probe/wire';

export function feedOf(messages: readonly ProbeMessage[]): SessionFeed {
  const feed = new SessionFeed();
  for (const m of messages) feed.apply(m);
  return feed;
}
