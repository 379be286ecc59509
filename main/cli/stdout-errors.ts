// loopscope's standard output that cannot be written (a full disk, a reader that went away):
// one line, not Node's unhandled 'error' stack trace, which every command gave with its output on
// /dev/full.

import { fsReason, RECORDING_EXIT } from '../recording/errors';

/** Installs the handler; for the life of the CLI's process. */
export function handleStdoutErrors(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // A reader that stopped reading (`loopscope ps | head -1`) wants no more: as a pipe's writer does, end quietly.
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`loopscope: cannot write its output: ${fsReason(err)}\n`);
    process.exit(RECORDING_EXIT.cannotWrite);
  });
}
