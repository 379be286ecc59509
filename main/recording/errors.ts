// Errors about recording files, each one clear line for the user, with the exit code that
// tells a script what kind of problem it was.

import type { Stats } from 'node:fs';

/** Exit codes (sysexits.h), distinct from usage (2) and internal (70) errors. */
export const RECORDING_EXIT = {
  /** The file is not a readable recording: not one, wrong version, damaged beyond use. */
  badRecording: 65,
  /** The file cannot be opened: missing, unreadable. */
  noInput: 66,
  /** The output (recording or export) cannot be written. */
  cannotWrite: 73,
} as const;

export type RecordingExitCode = (typeof RECORDING_EXIT)[keyof typeof RECORDING_EXIT];

export class RecordingError extends Error {
  override readonly name = 'RecordingError';
  constructor(message: string, readonly exitCode: RecordingExitCode) {
    super(message);
  }
}

/**
 * A file past one of the limits on what a recording may hold (recording/format.ts, and the
 * wire's in probe/wire.ts): no real one is, so it is refused whole rather than read in part.
 */
export function overLimitError(path: string, reason: string): RecordingError {
  return new RecordingError(`${path} cannot be read: ${reason}. No recording holds that; the file is damaged or was made to exhaust memory`, RECORDING_EXIT.badRecording);
}

/** Why a file is no recording's file (a folder, a FIFO, a device), or undefined for a regular file. */
export function notRegularFile(stat: Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return 'it is a folder';
  return `it is not a regular file (${stat.isFIFO() ? 'a FIFO' : stat.isSocket() ? 'a socket' : 'a device'})`;
}

/** A file system error as a short reason: "no such file", "permission denied", ... */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file or folder';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'it is a folder';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'ELOOP': return 'it is a symbolic link, which loopscope does not write through (give the real path)';
    case 'ENOSPC': return 'no space left on the device';
    case 'EROFS': return 'the file system is read-only';
    case 'EMFILE': case 'ENFILE': return 'too many open files';
    case 'EDQUOT': return 'the disk quota is used up';
    case 'EFBIG': return 'the file is larger than the file system allows';
    case 'ENAMETOOLONG': return 'the path is too long';
    case 'EIO': return 'the device reported an input/output error (a failing disk, or a network mount that went away)';
    case 'EAGAIN': return 'it cannot be read without waiting (a FIFO or device opened non-blocking)';
    default: return err instanceof Error ? err.message : String(err);
  }
}

