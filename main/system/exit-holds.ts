// Work a finished command must let end before its process exits, because cutting it short
// would hurt another process: each hold is bounded by whoever takes it. The CLI's exit waits for
// them (cli/exit-when-done.ts); nothing else exits the process on purpose.

const holds = new Set<Promise<void>>();

/** Keeps the process from exiting on purpose until `work` settles. */
export function holdExit(work: Promise<unknown>): void {
  const hold = work.then(() => undefined, () => undefined);
  holds.add(hold);
  void hold.then(() => holds.delete(hold));
}

/** Settles once every hold taken so far has. */
export function exitHoldsSettled(): Promise<void> {
  return Promise.all(holds).then(() => undefined);
}
