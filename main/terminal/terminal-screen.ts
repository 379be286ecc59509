// Draws the live view as a footer at the bottom of the terminal while the target's own
// output scrolls above it. Output is passed on in whole lines only, so a half-written line
// from the target and the footer never share a row.

import type { Writable } from 'node:stream';

const PARTIAL_LINE_FLUSH_MS = 200;

export class TerminalScreen {
  private footer: string[] = [];
  private drawnLines = 0;
  private partial = '';
  private partialTimer: NodeJS.Timeout | undefined;

  constructor(private readonly out: Writable & { columns?: number }) {}

  get width(): number {
    return this.out.columns ?? 80;
  }

  /** The target wrote this; show it above the footer. */
  output(text: string): void {
    const combined = this.partial + text;
    const cut = combined.lastIndexOf('\n');
    if (cut === -1) {
      this.partial = combined;
      this.schedulePartialFlush();
      return;
    }
    this.partial = combined.slice(cut + 1);
    this.writeAbove(combined.slice(0, cut + 1));
    if (this.partial) this.schedulePartialFlush();
  }

  /** Replaces the footer. */
  draw(lines: string[]): void {
    this.footer = lines;
    this.writeAbove('');
  }

  /** Takes the footer away and leaves the cursor on a fresh line. */
  close(): void {
    clearTimeout(this.partialTimer);
    const rest = this.partial ? this.partial + '\n' : '';
    this.partial = '';
    this.footer = [];
    this.writeAbove(rest);
  }

  private schedulePartialFlush(): void {
    clearTimeout(this.partialTimer);
    this.partialTimer = setTimeout(() => {
      const text = this.partial;
      this.partial = '';
      if (text) this.writeAbove(text + '\n');
    }, PARTIAL_LINE_FLUSH_MS);
  }

  private writeAbove(text: string): void {
    // Cursor to the start of the footer, clear to the end of the screen, then write.
    const clear = this.drawnLines > 0 ? `\r${this.drawnLines > 1 ? `\x1b[${this.drawnLines - 1}A` : ''}\x1b[J` : '';
    const footer = this.footer.join('\n');
    this.out.write(clear + text + footer);
    this.drawnLines = this.footer.length;
  }
}
