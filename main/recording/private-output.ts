// Files loopscope writes for the user (recordings, exports): created 0600, since they hold the
// target's command line, paths and stacks; and never through a symbolic link at the path
// itself, which another user could have planted in a shared folder (/tmp) to make loopscope
// write over a file of its choosing.

import { closeSync, constants, fchmodSync, fstatSync, openSync } from 'node:fs';

// O_NONBLOCK: an existing FIFO at the path fails (ENXIO) instead of waiting for a reader.
const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Opens `path` for writing, emptied; throws the file system's error (ELOOP for a symbolic link). */
export function openPrivateOutput(path: string): number {
  const fd = openSync(path, FLAGS, 0o600);
  try {
    // An existing file keeps its mode through O_TRUNC: narrow it too. Never a device's.
    if (fstatSync(fd).isFile()) fchmodSync(fd, 0o600);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
