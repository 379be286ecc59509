// Draws the live view as a footer at the bottom of the terminal, while the target writes to the
// same terminal directly (its output never passes through loopscope, so loopscope's death
// cannot break it). The footer lives below a scroll region (DECSTBM) that holds everything
// else: the target's output scrolls inside the region and never over the footer. Each change
// is one write(), which the terminal driver serialises against the target's writes; the
// cursor is saved and restored around it (DECSC/DECRC), so the target's output goes on where it
// was. The footer only grows (a shrinking one would leave a gap), up to the screen less 3 rows.
// The sequences are pure functions of the geometry, below the class.

/** The terminal the screen draws on: process.stdout when it is a TTY. */
export interface ScreenOutput {
  readonly columns?: number;
  readonly rows?: number;
  write(text: string): boolean;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

const ESC = '\x1b';
const SAVE = `${ESC}7`;
const RESTORE = `${ESC}8`;
/** Rows kept for the region, at least: the target's output needs somewhere to go. */
const MIN_REGION_ROWS = 3;

export class TerminalScreen {
  /** Footer rows reserved, 0 before the first draw. */
  private height = 0;
  private rows = 0;
  private lines: string[] = [];
  private closed = false;
  private readonly onResize = (): void => this.resized();
  private readonly onExit = (): void => this.close();

  constructor(private readonly out: ScreenOutput) {
    out.on('resize', this.onResize);
    // A loopscope that exits by another way (an error) still gives the terminal back.
    process.on('exit', this.onExit);
  }

  get width(): number {
    return this.out.columns ?? 80;
  }

  /** Replaces the footer. */
  draw(lines: readonly string[]): void {
    if (this.closed) return;
    this.lines = [...lines];
    const rows = this.out.rows ?? 24;
    const height = Math.min(Math.max(this.height, lines.length), Math.max(0, rows - MIN_REGION_ROWS));
    let text = '';
    if (this.height === 0 || rows !== this.rows) text += reserveFooter(rows, height);
    else if (height > this.height) text += growFooter(rows, this.height, height);
    this.height = height;
    this.rows = rows;
    this.out.write(text + drawFooter(rows, height, this.lines));
  }

  /** Takes the footer away and gives the whole screen back to scrolling. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.off('resize', this.onResize);
    process.off('exit', this.onExit);
    if (this.height > 0) this.out.write(releaseFooter(this.rows, this.height));
  }

  private resized(): void {
    // Terminals reset the scroll region on a resize (and may move lines about): set it up again.
    if (this.height > 0) this.draw(this.lines);
  }
}

const moveTo = (row: number): string => `${ESC}[${row};1H`;
const region = (bottom: number): string => `${ESC}[1;${bottom}r`;

/**
 * Makes `height` free rows at the bottom (scrolling up what is there when the cursor is near
 * the bottom), and puts the scroll region above them. The cursor stays on its line.
 */
export function reserveFooter(rows: number, height: number): string {
  if (height === 0) return '';
  // Full screen first: after a resize the old region may be anywhere.
  return `${SAVE}${ESC}[r${RESTORE}${'\n'.repeat(height)}${ESC}[${height}A${SAVE}${region(rows - height)}${RESTORE}`;
}

/** Scrolls the region up to make room for a taller footer, and moves the cursor up with the text. */
export function growFooter(rows: number, from: number, to: number): string {
  const more = to - from;
  return `${SAVE}${moveTo(rows - from)}${'\n'.repeat(more)}${region(rows - to)}${RESTORE}${ESC}[${more}A`;
}

/** The footer's rows, each cleared and drawn, without the target's colours. */
export function drawFooter(rows: number, height: number, lines: readonly string[]): string {
  if (height === 0) return '';
  let text = `${SAVE}${ESC}[0m`;
  for (let i = 0; i < height; i++) text += `${moveTo(rows - height + 1 + i)}${ESC}[2K${lines[i] ?? ''}`;
  return text + RESTORE;
}

/** The whole screen scrolls again; the footer's rows are cleared; the cursor is where the target left it. */
export function releaseFooter(rows: number, height: number): string {
  let text = `${SAVE}${ESC}[r`;
  for (let i = 0; i < height; i++) text += `${moveTo(rows - height + 1 + i)}${ESC}[2K`;
  return text + RESTORE;
}
