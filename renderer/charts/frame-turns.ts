// Turns at drawing, one per animation frame: a recharts chart redraw is the longest piece of
// work in the UI, and three of them in the same frame made it three times as long. A
// requester that asks again before its turn keeps its place, and only its latest callback
// runs. Pure: the frame scheduler is passed in.

export type FrameScheduler = (run: () => void) => void;

export class FrameTurns {
  private readonly waiting = new Map<object, () => void>();
  private scheduled = false;

  constructor(private readonly schedule: FrameScheduler) {}

  request(owner: object, draw: () => void): void {
    this.waiting.set(owner, draw);
    this.next();
  }

  cancel(owner: object): void {
    this.waiting.delete(owner);
  }

  private next(): void {
    if (this.scheduled || this.waiting.size === 0) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      const first = this.waiting.entries().next();
      if (first.done) return;
      const [owner, draw] = first.value;
      this.waiting.delete(owner);
      try {
        draw();
      } finally {
        this.next();
      }
    });
  }
}
