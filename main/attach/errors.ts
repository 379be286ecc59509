// Why an attach failed: one typed error per cause, each with its own exit code, so that a
// script can tell "not a Node process" from "port busy" without reading the message.

export const ATTACH_EXIT_CODES = {
  /** No process has this PID. */
  'no-such-process': 3,
  /** The process belongs to another user. */
  'not-permitted': 4,
  /** The process is not Node.js. */
  'not-node': 5,
  /** Node, but SIGUSR1 would not open its inspector (or would kill it). */
  'inspector-disabled': 6,
  /** The inspector port is held by another process. */
  'port-busy': 7,
  /** The process exited while loopscope was attaching. */
  'target-exited': 8,
  /** The process did not answer in time. */
  'timeout': 9,
  /** A loopscope probe inside the process is already connected to another loopscope. */
  'already-attached': 10,
  /** The probe could not start in the process, or never connected back. */
  'probe-failed': 11,
  /** Node, but cannot be attached for another reason (too old, stopped, ...). */
  'not-attachable': 12,
  /** The inspector opened but did not behave as expected. */
  'inspector-failed': 13,
  /** Attached, but loopscope cannot make sure the inspector it opened is closed again. */
  'inspector-open': 14,
  /** Attached, but another client connected to the inspector while loopscope had it open. */
  'foreign-session': 15,
  /** Ctrl-C while attaching. */
  'interrupted': 130,
} as const;

export type AttachErrorCode = keyof typeof ATTACH_EXIT_CODES;

export class AttachError extends Error {
  override readonly name = 'AttachError';
  readonly exitCode: number;

  /** `message` is one line: what is wrong, then what to do about it. */
  constructor(readonly code: AttachErrorCode, message: string) {
    super(message);
    this.exitCode = ATTACH_EXIT_CODES[code];
  }
}
