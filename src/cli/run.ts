/**
 * How every command ends: a UserError prints its one-line message and exits 2, and so does any Node system
 * error (ENOENT, EISDIR, EACCES, ENOSPC, …: a path the user gave or a machine limit, not a bug), as
 * `alembic: <path>: <what>`. Anything else is a bug and keeps its stack trace.
 */
import { UserError } from '../util/errors.js';
import { asUserError, isSystemError } from '../util/system-error.js';

export function runCommand(fn: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (e) {
      exitOnUserError(e);
      throw e;
    }
  };
}

/** Prints a UserError (or a system error, as one) and exits; returns for anything else. */
export function exitOnUserError(e: unknown): void {
  // A closed stdout (`alembic predict … | head -1`) is the reader saying it has enough: end quietly.
  if (isSystemError(e) && e.code === 'EPIPE') process.exit(0);
  const user = asUserError(e);
  if (user instanceof UserError) {
    process.stderr.write(`alembic: ${user.message}\n`);
    process.exit(user.exitCode);
  }
}

/**
 * Catches what escapes every command's own boundary: stream 'error' events and rejected promises nobody
 * awaited. A write to a closed stdout ends the command quietly with exit 0.
 */
export function installErrorBoundary(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    exitOnUserError(e);
    throw e;
  });
  const last = (e: unknown) => {
    exitOnUserError(e);
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', last);
  process.on('unhandledRejection', last);
}

/** Parses a positive integer flag, or explains which flag is wrong. */
export function positiveInt(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0)
      throw new UserError(`${flag}: expected a positive integer, got "${v}"`);
    return n;
  };
}

/** Parses a positive number flag (seconds, minutes), or explains which flag is wrong. */
export function positiveNumber(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n))
      throw new UserError(`${flag}: expected a positive number, got "${v}"`);
    return n;
  };
}

/** Parses a number flag where 0 means "off" (an empty value is refused, not read as 0). */
export function nonNegativeNumber(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!(v.trim() !== '' && Number.isFinite(n) && n >= 0))
      throw new UserError(`${flag}: expected a number ≥ 0, got "${v}"`);
    return n;
  };
}

/** Parses an integer flag that may be 0 (a port, a wait in ms). */
export function nonNegativeInt(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag}: expected an integer ≥ 0, got "${v}"`);
    return n;
  };
}
