// `loopscope replay <file>`: a recording in the live terminal view, as if it were live, with
// play, pause, speed, seek and step from the keyboard.

import { describeOptions, parseArgs, UsageError, type OptionSpec } from './args';
import { nextSpeed, SPEEDS } from '../replay/replay-clock';
import { ReplaySession } from '../replay/replay-session';
import { formatRecordingTime, parseRecordingTime } from '../common/time-format';
import { renderLiveView } from '../terminal/live-view';
import { TerminalScreen } from '../terminal/terminal-screen';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'speed', kind: 'number', valueName: 'x', min: SPEEDS[0]!, max: SPEEDS[SPEEDS.length - 1]!, description: `playback speed, ${SPEEDS[0]} to ${SPEEDS[SPEEDS.length - 1]} (default 1)` },
  { name: 'from', kind: 'string', valueName: 'time', description: 'start here: 90, 90s, 1:30 or 1:02:03 into the recording' },
  { name: 'paused', kind: 'flag', description: 'start paused' },
  { name: 'help', short: 'h', kind: 'flag', description: 'show this help' },
];

const HELP = `Usage: loopscope replay <file> [options]

Plays a recording made with --record in the same view as a live run. A file that is still
being recorded is followed as it grows.

Keys: space play/pause · ← → back/forward 5 s (shift: 60 s) · + - (or ↑ ↓) speed
      . step to the next sample · Home/End (or g/G) start/end · q quit

Options:
${'{options}'}

Examples:
  loopscope replay s.rec
  loopscope replay s.rec --from 1:30 --speed 4
`;

export type ReplayAction =
  | { readonly kind: 'toggle' | 'step' | 'quit' | 'start' | 'end' }
  | { readonly kind: 'seekBy'; readonly ms: number }
  | { readonly kind: 'speed'; readonly direction: 1 | -1 };

/**
 * The key presses in one read of raw terminal input: keys typed fast, repeated or pasted, or
 * sent over a slow link, come in one read (where `q` then did nothing). Pure.
 */
export function splitKeys(input: string): string[] {
  return input.match(/\x1b\[[0-9;]*[~A-Za-z]|\x1bO[A-Za-z]|[\s\S]/g) ?? [];
}

/** What a key press (as raw terminal input) asks for. Pure. */
export function replayKeyAction(key: string): ReplayAction | undefined {
  switch (key) {
    case ' ': case 'p': return { kind: 'toggle' };
    case '.': case 's': return { kind: 'step' };
    case 'q': case '\x03': case '\x1b': return { kind: 'quit' };
    case '\x1b[D': case 'h': return { kind: 'seekBy', ms: -5000 };
    case '\x1b[C': case 'l': return { kind: 'seekBy', ms: 5000 };
    case '\x1b[1;2D': case 'H': return { kind: 'seekBy', ms: -60_000 };
    case '\x1b[1;2C': case 'L': return { kind: 'seekBy', ms: 60_000 };
    case '+': case '=': case '\x1b[A': return { kind: 'speed', direction: 1 };
    case '-': case '\x1b[B': return { kind: 'speed', direction: -1 };
    case 'g': case '\x1b[H': case '\x1b[1~': return { kind: 'start' };
    case 'G': case '\x1b[F': case '\x1b[4~': return { kind: 'end' };
    default: return undefined;
  }
}

/** The transport line under the title: state, speed, position, a progress bar, the keys. Pure. */
export function renderTransport(r: { playing: boolean; speed: number; positionMs: number; startMs: number; endMs: number; warnings: number; following: boolean }, width: number): string {
  const span = Math.max(1, r.endMs - r.startMs);
  const bar = 20;
  const filled = Math.round((Math.min(span, Math.max(0, r.positionMs - r.startMs)) / span) * bar);
  const warn = r.warnings > 0 ? ` · ${r.warnings} warning${r.warnings === 1 ? '' : 's'} (shown on exit)` : '';
  const line = `${r.playing ? '▶' : '⏸'} ${r.speed}× ${formatRecordingTime(r.positionMs - r.startMs)} / ${formatRecordingTime(span)}` +
    `${r.following ? ' (recording)' : ''} [${'█'.repeat(filled)}${'─'.repeat(bar - filled)}]  space ←→ +- . q${warn}`;
  return line.length > width ? line.slice(0, width) : line;
}

export async function replayCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, OPTIONS);
  if (parsed.options['help']) {
    process.stdout.write(HELP.replace('{options}', describeOptions(OPTIONS)));
    return 0;
  }
  const [file, extra] = parsed.positionals;
  if (!file) throw new UsageError('no recording given. Usage: loopscope replay <file>');
  if (extra) throw new UsageError(`unexpected argument "${extra}"`);
  const fromText = parsed.options['from'] as string | undefined;
  const fromOffset = fromText === undefined ? undefined : parseRecordingTime(fromText);
  if (fromText !== undefined && fromOffset === undefined) throw new UsageError(`--from must be a time like 90, 90s or 1:30, got "${fromText}"`);
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    throw new UsageError('replay shows an interactive view and needs a terminal. For a report, use loopscope summary <file>');
  }
  const session = ReplaySession.open(file, { speed: parsed.options['speed'] as number | undefined });
  if (fromOffset !== undefined) {
    const lengthMs = session.endMs - session.startMs;
    if (fromOffset >= lengthMs) {
      session.close();
      const what = session.reader.complete ? 'the recording, which is' : 'what the recording holds so far,';
      throw new UsageError(`--from ${fromText} is past the end of ${what} ${formatRecordingTime(lengthMs)} long: give an earlier time`);
    }
    session.seek(session.startMs + fromOffset);
  }
  return runView(session, parsed.options['paused'] !== true);
}

function runView(session: ReplaySession, autoplay: boolean): Promise<number> {
  const screen = new TerminalScreen(process.stdout);
  let drawn = 0;
  let pending: NodeJS.Timeout | undefined;
  let lines: string[] = [];
  const draw = (): void => {
    pending = undefined;
    drawn = Date.now();
    // A terminal that does not say its size (columns 0) gets the usual 80.
    const width = Math.max(40, screen.width || 80);
    const status = renderTransport({
      playing: session.playing, speed: session.speed, positionMs: session.positionMs, startMs: session.startMs, endMs: session.endMs,
      warnings: session.warnings.length, following: !session.reader.complete,
    }, width);
    lines = renderLiveView(session, { width, elapsedMs: session.positionMs - session.startMs, status, remainingMs: undefined, loops: session.loops });
    screen.draw(lines);
  };
  // At most 20 redraws a second, however fast the frames are applied.
  session.onChange(() => {
    if (pending) return;
    pending = setTimeout(draw, Math.max(0, 50 - (Date.now() - drawn)));
  });
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const quit = (): void => {
      clearTimeout(pending);
      session.close();
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onKey);
      process.off('SIGTERM', quit);
      draw();
      // The last view stays on the terminal, as ordinary output.
      screen.close();
      process.stdout.write(lines.join('\n') + '\n');
      for (const w of session.warnings) process.stderr.write(`loopscope replay: warning: ${w}\n`);
      resolve(0);
    };
    const onKey = (data: Buffer): void => {
      for (const key of splitKeys(data.toString('latin1'))) {
        const action = replayKeyAction(key);
        if (action?.kind === 'quit') return quit();
        if (action) act(action);
      }
    };
    const act = (action: Exclude<ReplayAction, { kind: 'quit' }>): void => {
      switch (action.kind) {
        case 'toggle': return session.playing ? session.pause() : session.play();
        case 'step': return session.step();
        case 'seekBy': return session.seek(session.positionMs + action.ms);
        case 'speed': return session.setSpeed(nextSpeed(session.speed, action.direction));
        case 'start': return session.seek(session.startMs);
        case 'end': return session.seek(session.endMs);
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onKey);
    process.on('SIGTERM', quit);
    draw();
    if (autoplay) session.play();
  });
}
