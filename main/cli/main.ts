// The loopscope command line: dispatches to a command, turns errors into clear messages
// and exit codes. Never prints a stack trace for a user's mistake.

import { UsageError } from './args';
import { runCommand } from './run-command';
import { attachCommand } from './attach-command';
import { psCommand } from './ps-command';
import { summaryCommand } from './summary-command';
import { exportCommand } from './export-command';
import { replayCommand } from './replay-command';
import { RecordingError } from '../recording/errors';
import { serveCommand } from './serve-command';
import { LATE_CLOSE_COMMAND, lateCloseCommand } from '../attach/late-close';
import { PROBE_VERSION } from '../../probe/constants';
import { handleStdoutErrors } from './stdout-errors';

export { exitWhenDone } from './exit-when-done';
export { holdExit } from '../system/exit-holds';

/** Exit codes of loopscope's own, distinct from a target's. */
export const EXIT = { usage: 2, internal: 70 } as const;

const HELP = `loopscope ${PROBE_VERSION}: see inside a live Node.js event loop.

Usage: loopscope <command> [options]

Commands:
  run [options] -- <command> [args…]   start a Node program with the probe and watch its loop
  attach <pid> [options]               inject the probe into a running Node process and watch it
  ps [--json]                          list your Node processes and whether they can be attached
  serve [--port <n>] [--no-open]       open the UI in your browser (served on this machine only)
  summary <file> [--json]              summarize a recording made with --record
  replay <file>                        play a recording in the live view
  export <file> -o <out.json>          write a recording as a Chrome trace (Perfetto, chrome://tracing)

Run \`loopscope <command> --help\` for a command's options.

Examples:
  loopscope run -- node server.js
  loopscope run --duration 5 --json -- node app.js
  loopscope ps
  loopscope attach 12345 --duration 5 --json
  loopscope summary s.rec
`;

const COMMANDS: Readonly<Record<string, (argv: readonly string[]) => Promise<number>>> = {
  run: runCommand,
  attach: attachCommand,
  ps: psCommand,
  summary: summaryCommand,
  replay: replayCommand,
  export: exportCommand,
  serve: serveCommand,
  // Not for users (not in HELP): started by attach to close an inspector that opens late.
  [LATE_CLOSE_COMMAND]: lateCloseCommand,
};

export async function main(argv: readonly string[]): Promise<number> {
  handleStdoutErrors();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? EXIT.usage : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${PROBE_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`loopscope: unknown command "${name}". Commands: ${Object.keys(COMMANDS).filter((c) => !c.startsWith('_')).join(', ')}. See loopscope --help.\n`);
    return EXIT.usage;
  }
  try {
    return await command(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`loopscope ${name}: ${err.message}\nSee loopscope ${name} --help.\n`);
      return EXIT.usage;
    }
    if (err instanceof RecordingError) {
      process.stderr.write(`loopscope ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`loopscope ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.internal;
  }
}
