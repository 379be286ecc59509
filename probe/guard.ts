// The probe's callbacks run in the target: nothing they throw may reach it.

/** Wraps a callback that runs in the target so that nothing it throws reaches the target. */
export function guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch {
      // Swallowed on purpose: the probe must never throw into the process it observes.
    }
  };
}
