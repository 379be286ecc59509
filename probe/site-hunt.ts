// Creation stacks for types that keep growing (a leak's, or a pool warming up). The general
// sampling (creation-sites.ts: the first of a type in each interval, then one in 512, on a
// budget shared by every type) misses them on a server: busy types' first-of-interval stacks
// spend the whole budget, so a busy type's one in 512 rarely gets a token, and code that makes
// the same promises in the same order on each request puts the first of each interval on the
// same one every time (in a fan-out, a shard that resolves), so none sampled stays alive. A type
// whose live count reaches new highs is hunted instead: its own budget, and a random stride
// sized to spend it, so the stacks land anywhere in the pattern; until enough of its sampled
// resources are alive to name where they were made, or it stops growing.

/** A type's figures over the last interval (tasks mode's TaskType has them). */
export interface TypeCounts {
  readonly alive: number;
  readonly created: number;
}

/** Live resources a type needs before its new highs count: fewer are no leak worth a stack. */
const HUNT_FROM = 64;
/** A type is hunted this long after its last new high. */
const HUNT_FOR_US = 5_000_000;
/** Sampled resources of the type alive that are enough to name its sites; then the hunt stops. */
const HUNT_UNTIL = 64;
/** Captures per second for hunted types, and in one burst, besides the general budget's. */
const HUNT_PER_S = 20;
const HUNT_BURST = 10;

export class SiteHunt {
  /** By type index: the mean stride while hunted, 0 when not (read on every init). */
  readonly strides: number[] = [];
  /** By type index: inits to go before the next stack. */
  private readonly left: number[] = [];
  private readonly highs: number[] = [];
  /** By type index: inits per interval, smoothed (a server's requests often come in waves). */
  private readonly rates: number[] = [];
  private readonly untilUs: number[] = [];
  private tokens = HUNT_BURST;
  private clockUs = 0;
  /** Whether any type is hunted now. */
  active = false;

  /** Whether the resource of hunted type `typeIndex` made now gets a stack. */
  due(typeIndex: number): boolean {
    if (--this.left[typeIndex]! > 0) return false;
    // Drawn whether or not a token is left: the next stack must not fall on whatever comes first when tokens return.
    this.left[typeIndex] = this.draw(this.strides[typeIndex]!);
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** At each interval, `intervalUs` after the last: which types to hunt now, from their counts by type index and their sampled resources alive. */
  update(intervalUs: number, counts: readonly TypeCounts[], sampledAlive: readonly number[]): void {
    this.clockUs += intervalUs;
    this.tokens = Math.min(HUNT_BURST, this.tokens + (intervalUs * HUNT_PER_S) / 1e6);
    let hunted = 0;
    for (let i = 0; i < counts.length; i++) {
      if (this.isHunted(i, counts[i]!.alive, sampledAlive[i] ?? 0)) hunted++;
      this.rates[i]! += (counts[i]!.created - this.rates[i]!) / 4;
    }
    this.active = hunted > 0;
    // The stride that spends the budget over an interval's inits, shared between the hunted types.
    const perInterval = Math.max(1e-3, (intervalUs * HUNT_PER_S) / 1e6);
    for (let i = 0; i < this.strides.length; i++) {
      if (this.strides[i] === 0) continue;
      this.strides[i] = Math.max(1, (this.rates[i]! * hunted) / perInterval);
      if (this.left[i]! <= 0 || this.left[i]! > 2 * this.strides[i]!) this.left[i] = this.draw(this.strides[i]!);
    }
  }

  /** Whether type `i` is hunted from now on; marks it in `strides` (1 until sized). */
  private isHunted(i: number, alive: number, sampledAlive: number): boolean {
    while (this.strides.length <= i) {
      this.strides.push(0);
      this.left.push(0);
      this.highs.push(0);
      this.rates.push(0);
      this.untilUs.push(0);
    }
    if (alive >= HUNT_FROM && alive > this.highs[i]!) {
      this.highs[i] = alive;
      this.untilUs[i] = this.clockUs + HUNT_FOR_US;
    }
    const hunted = this.clockUs < this.untilUs[i]! && sampledAlive < HUNT_UNTIL;
    this.strides[i] = hunted ? 1 : 0;
    return hunted;
  }

  /** A stride of `mean` on average, anywhere from 1 to twice it. */
  private draw(mean: number): number {
    return 1 + Math.floor(Math.random() * 2 * mean);
  }

  clear(): void {
    this.strides.fill(0);
    this.active = false;
  }
}
