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
