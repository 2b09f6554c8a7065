/**
 * How every command ends: a UserError prints its one-line message and exits 2; anything else is a bug
 * and keeps its stack trace.
 */
import { UserError } from '../util/errors.js';

export function runCommand(fn: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (e) {
      if (e instanceof UserError) {
        process.stderr.write(`alembic: ${e.message}\n`);
        process.exit(e.exitCode);
      }
      throw e;
    }
  };
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
