// Other Node versions for attach targets (node-install.mjs installs them), and a test's way to
// skip when one cannot be had.

import { installNode } from './node-install.mjs';

export { installNode, NODE_VERSIONS } from './node-install.mjs';

/** A Node binary of `version`, or the reason there is none (then a test skips). */
export async function otherNode(version: string): Promise<{ node: string } | { reason: string }> {
  if (`v${version}` === process.version) return { node: process.execPath };
  try {
    return { node: await installNode(version) };
  } catch (err) {
    return { reason: (err as Error).message };
  }
}
