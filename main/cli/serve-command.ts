// `loopscope serve [--port <n>] [--no-open]`: the desktop UI, served to a browser on loopback.
// The first URL on stdout is the one to open (it carries the token); the browser opened for
// the user gets it from a page only the user can read, never on a command line. Ctrl-C stops
// the host, the programs it launched, and detaches from the processes it attached to.

import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { openBrowser } from './open-browser';
import { writeHandoffPage, type HandoffPage } from './browser-handoff';
import { UiBackend } from '../ui/ui-backend';
import { rendererPath } from '../web-host/renderer-path';
import { startWebHost } from '../web-host/web-host';

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: 'port', kind: 'number', valueName: 'n', integer: true, min: 0, max: 65_535, description: 'port on 127.0.0.1 (default: a free one)' },
  { name: 'no-open', kind: 'flag', description: 'do not open the system browser' },
  { name: 'help', short: 'h', kind: 'flag', description: 'show this help' },
];

export const SERVE_HELP = `Usage: loopscope serve [--port <n>] [--no-open]

Serves loopscope's UI to your browser, on this machine only (127.0.0.1), and opens it. The
URL carries a random token: only someone who has it can use the UI. Keep it to yourself.
The browser gets it from a page only you can read (removed a minute later), not on a
command line, where other users of this machine could read it.

Options:
{options}
`;

/** Long enough for a browser to start and read the page; not left lying around. */
const HANDOFF_KEPT_MS = 60_000;

/** Opens the browser on a hand-off page, in the background (an opener may wait for the browser). */
function openHandoff(url: string): HandoffPage | undefined {
  let handoff: HandoffPage;
  try {
    handoff = writeHandoffPage(url);
  } catch (err) {
    process.stderr.write(`loopscope: cannot write the page that opens the UI (${(err as Error).message}); open the URL above in your browser.\n`);
    return undefined;
  }
  setTimeout(() => handoff.remove(), HANDOFF_KEPT_MS).unref();
  void openBrowser(handoff.path).then((problem) => {
    if (problem) process.stderr.write(`loopscope: ${problem}; open the URL above in your browser.\n`);
  });
  return handoff;
}

export async function serveCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, SERVE_OPTIONS);
  if (parsed.options['help']) {
    process.stdout.write(SERVE_HELP.replace('{options}', describeOptions(SERVE_OPTIONS)));
    return 0;
  }
  if (parsed.positionals.length > 0 || parsed.rest !== undefined) throw new UsageError('serve takes no arguments');
  const root = rendererPath();
  const backend = await UiBackend.start();
  let host;
  try {
    host = await startWebHost({ api: backend, root, port: (parsed.options['port'] as number | undefined) ?? 0 });
  } catch (err) {
    await backend.shutdown();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${String(parsed.options['port'])} is in use; pick another with --port, or leave it out`);
    throw err;
  }
  process.stdout.write(`${host.url}\nloopscope serves its UI at the URL above (this machine only). Ctrl-C stops it.\n`);
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const handoff = parsed.options['no-open'] === true ? undefined : openHandoff(host.url);
  await stopped;
  handoff?.remove();
  await host.close();
  await backend.shutdown();
  return 0;
}
