/**
 * Node's system errors (ENOENT, EISDIR, EACCES, …) as the one-line messages users get everywhere else:
 * `<path>: <what went wrong>`. Every command ends through the CLI's error boundary, which turns any system
 * error that escapes a command into this form, so a missing folder or a full disk never prints a stack trace.
 */
import { UserError } from './errors.js';

const WHAT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a part of this path is a file, expected a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files (raise `ulimit -n`)',
  ENFILE: 'too many open files in the system',
  EPIPE: 'the reader closed the pipe',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EBUSY: 'resource busy',
  EXDEV: 'cannot move across file systems',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  ENXIO: 'no such device',
};

/** Whether `e` is an error from the operating system (it carries an `E…` code and a syscall or errno). */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  if (!(e instanceof Error)) return false;
  const err = e as NodeJS.ErrnoException;
  return (
    typeof err.code === 'string' &&
    /^E[A-Z0-9]+$/.test(err.code) &&
    (typeof err.syscall === 'string' || typeof err.errno === 'number')
  );
}

/** What went wrong, in words ("permission denied"), without the path. */
export function systemErrorWhat(e: NodeJS.ErrnoException): string {
  const code = e.code ?? 'EUNKNOWN';
  return WHAT[code] ?? `${code}${e.syscall ? ` in ${e.syscall}` : ''}`;
}

/** `path: what` for a system error; the path is the error's own, else `fallbackPath`, else the syscall. */
export function describeSystemError(e: NodeJS.ErrnoException, fallbackPath?: string): string {
  const what = systemErrorWhat(e);
  const where = e.path ?? fallbackPath ?? e.syscall ?? 'system';
  const to = (e as { dest?: unknown }).dest;
  const dest = typeof to === 'string' ? ` → ${to}` : '';
  return `${where}${dest}: ${what}`;
}

/** A system error as the UserError the CLI prints in one line; anything else is returned as is. */
export function asUserError(e: unknown, fallbackPath?: string): unknown {
  if (e instanceof UserError || !isSystemError(e)) return e;
  return new UserError(describeSystemError(e, fallbackPath));
}
