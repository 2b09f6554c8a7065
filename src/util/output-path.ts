/**
 * Checks an output directory before any work is done, so a run that cannot write its results fails at once
 * with one line (not with an EEXIST/ENOTDIR/EACCES stack trace after the data was read and a model trained).
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';

/** Throws a UserError if `dir` is a file, lies under a file, or cannot be created or written. */
export function checkOutputDir(dir: string): void {
  const target = path.resolve(dir);
  let existing = target;
  let stats = statOrUndefined(existing);
  while (!stats) {
    const parent = path.dirname(existing);
    if (parent === existing) return;
    existing = parent;
    stats = statOrUndefined(existing);
  }
  if (!stats.isDirectory()) {
    throw new UserError(
      existing === target
        ? `${dir}: is a file, not a directory (choose another output directory)`
        : `${dir}: cannot be created: ${existing} is a file`,
    );
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new UserError(
      existing === target ? `${dir}: not writable` : `${dir}: cannot be created: ${existing} is not writable`,
    );
  }
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: a part of the path is a file; walking up finds which.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES') throw new UserError(`${p}: not accessible (permission denied)`);
    throw e;
  }
}
