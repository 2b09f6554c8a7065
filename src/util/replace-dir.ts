/**
 * Replacing a directory (best/, a checkpoint, an exported model, a distilled student) so that a reader never
 * sees half of one, a user's folder is never deleted, and a crash at any moment can be recovered from.
 *
 * Every replacement names the kind of directory it may replace (DirKind): an existing target that is a file,
 * or a non-empty directory that is not of that kind, is refused with a UserError, so no caller can delete a
 * folder it did not write. The new content is filled into `TARGET.tmp-PID`, must then be a complete directory
 * of the kind (the kind's check reads the marker its writer writes last: a manifest, a trainer state), and
 * takes the target's place by two renames (`TARGET` → `TARGET.old-PID`, `TARGET.tmp-PID` → `TARGET`).
 * A crash between the renames leaves no TARGET: recoverReplacements finishes the replacement from the complete
 * tmp (or rolls back to the complete old) and removes the leftovers of dead processes, never a live one's.
 */
import { copyFileSync, existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { liveHolder, LOCK_FILE, processAlive } from './dir-lock.js';
import { UserError } from './errors.js';
import { checkOutputDir } from './output-path.js';

export interface DirKind {
  /** What such a directory is, for messages: "an alembic model directory". */
  name: string;
  /** Whether the existing directory `dir` is a complete directory of this kind. */
  is(dir: string): boolean;
}

/** Replaces `target` with a directory of `kind` filled by `fill`; refuses to replace anything else. */
export function replaceDir(target: string, kind: DirKind, fill: (tmp: string) => void): void {
  assertReplaceable(target, kind);
  recoverReplacements(path.dirname(target), kind, path.basename(target));
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    fill(tmp);
    if (!kind.is(tmp)) throw new Error(`replaceDir: ${tmp} is not ${kind.name} once filled`);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  // A locked directory (an export's --out) stays locked through the swap.
  const lock = path.join(target, LOCK_FILE);
  if (existsSync(lock)) copyFileSync(lock, path.join(tmp, LOCK_FILE));
  const old = `${target}.old-${process.pid}`;
  if (existsSync(target)) renameSync(target, old);
  faultPoint(target);
  renameSync(tmp, target);
  rmSync(old, { recursive: true, force: true });
}

/** Deletes `dir` if it is missing, empty or of `kind` and no other live run holds its lock; else throws. */
export function removeDir(dir: string, kind: DirKind): void {
  assertReplaceable(dir, kind);
  const holder = existsSync(dir) ? liveHolder(dir) : undefined;
  if (holder) throw new UserError(`${dir}: in use by another run (pid ${holder.pid}, "${holder.command}")`);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * For the kill test only: ALEMBIC_FAULT_REPLACE="best:2" kills the process (SIGKILL) between the two renames
 * of its 2nd replacement of a directory whose name starts with "best" ("step_" for checkpoints), the moment
 * a crash is hardest to recover from. Read from the environment, never an option a user sets.
 */
function faultPoint(target: string): void {
  const m = /^(.+):(\d+)$/.exec(process.env.ALEMBIC_FAULT_REPLACE ?? '');
  if (!m || !path.basename(target).startsWith(m[1])) return;
  faultCount++;
  if (faultCount === Number(m[2])) process.kill(process.pid, 'SIGKILL');
}
let faultCount = 0;

/** Throws unless `target` is missing, an empty directory, or a directory of `kind`. */
export function assertReplaceable(target: string, kind: DirKind): void {
  let isDir: boolean;
  try {
    isDir = statSync(target).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    checkOutputDir(target); // missing: it must be possible to create it
    return;
  }
  if (!isDir) throw new UserError(`${target}: is a file, not ${kind.name}; not replacing it`);
  if (readdirSync(target).every((name) => name === LOCK_FILE)) return;
  if (!kind.is(target)) {
    throw new UserError(
      `${target}: holds files and is not ${kind.name}; not replacing it (choose another path or empty it)`,
    );
  }
}

const LEFTOVER = /^(.+)\.(tmp|old)-(\d+)$/;

/**
 * Recovers interrupted replacements of `kind` in `parent` (only of `only`, when given): where a target is
 * missing, the complete leftover takes its place (a tmp finishes the replacement, else an old rolls it back);
 * then every leftover of a dead process (or of an earlier process with this one's id) is removed. Leftovers of
 * a live process are never touched. Returns one line per restored target.
 */
export function recoverReplacements(parent: string, kind: DirKind, only?: string): string[] {
  if (!existsSync(parent)) return [];
  const leftovers = readdirSync(parent)
    .map((name) => ({ name, m: LEFTOVER.exec(name) }))
    .filter((l) => l.m && (only === undefined || l.m[1] === only))
    .map((l) => ({ name: l.name, target: l.m![1], stage: l.m![2], pid: Number(l.m![3]) }))
    .filter((l) => l.pid === process.pid || !processAlive(l.pid));
  const restored: string[] = [];
  // tmp before old: a complete new directory finishes the replacement that was under way.
  leftovers.sort((a, b) => (a.stage === b.stage ? 0 : a.stage === 'tmp' ? -1 : 1));
  for (const l of leftovers) {
    const target = path.join(parent, l.target);
    const from = path.join(parent, l.name);
    if (existsSync(target) || !kind.is(from)) continue;
    renameSync(from, target);
    restored.push(`${target}: restored from ${l.name} (a run stopped while replacing it)`);
  }
  for (const l of leftovers) rmSync(path.join(parent, l.name), { recursive: true, force: true });
  return restored;
}
