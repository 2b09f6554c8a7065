/**
 * The studio's workspace: the one folder it reads and writes. Data files live in `data/`, training runs in
 * `runs/`, exports beside their run, and the studio's own state (database, access token, job logs) in
 * `.alembic-studio/`. Every name a request gives is checked here before it touches the disk: a bare file
 * name (no folder, no `..`, not absolute), and a real path (symlinks followed) that stays inside the
 * workspace, so neither a crafted name nor a symlink planted in the folder reads anything outside it.
 */
import { existsSync, lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';

/** A name the API accepts for a data file or a run: letters, digits, CJK, `.`, `_`, `-`; no leading dot. */
const SAFE_NAME = /^[\p{L}\p{N}_-][\p{L}\p{N}._-]{0,127}$/u;

/** An HTTP error with a status, for refusals that are not the user's input being wrong (403, 404, 413). */
export class StudioHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'StudioHttpError';
  }
}

export class Workspace {
  /** The workspace's real path. */
  readonly root: string;
  readonly dataDir: string;
  readonly runsDir: string;
  readonly stateDir: string;

  constructor(dir: string) {
    const resolved = path.resolve(dir);
    if (existsSync(resolved) && !statSync(resolved).isDirectory())
      throw new UserError(`--workspace: ${dir} is not a directory`);
    mkdirSync(resolved, { recursive: true });
    this.root = realpathSync(resolved);
    this.dataDir = path.join(this.root, 'data');
    this.runsDir = path.join(this.root, 'runs');
    this.stateDir = path.join(this.root, '.alembic-studio');
    for (const d of [this.dataDir, this.runsDir, this.stateDir]) mkdirSync(d, { recursive: true });
  }

  /** Throws unless `name` is a bare, safe name (what `what` names in the message: "file name"). */
  static checkName(name: unknown, what: string): string {
    if (typeof name !== 'string' || name === '') throw new UserError(`${what}: give a name`);
    if (path.isAbsolute(name) || name.includes('/') || name.includes('\\') || name.includes('..'))
      throw new StudioHttpError(403, `${what}: "${name}" must be a bare name inside the workspace`);
    if (!SAFE_NAME.test(name))
      throw new UserError(
        `${what}: "${name}" may hold only letters, digits, ".", "_" and "-" (at most 128, not starting with ".")`,
      );
    return name;
  }

  /** The path of data file `name` for writing (it need not exist yet). */
  dataPathForWrite(name: unknown): string {
    const file = path.join(this.dataDir, Workspace.checkName(name, 'file name'));
    if (existsSync(file) || isSymlink(file)) this.confine(file);
    return file;
  }

  /** The real path of an existing data file `name`; 404 when there is none. */
  dataFile(name: unknown): string {
    const file = path.join(this.dataDir, Workspace.checkName(name, 'file name'));
    if (!existsSync(file)) throw new StudioHttpError(404, `no data file "${String(name)}" in the workspace`);
    const real = this.confine(file);
    if (!statSync(real).isFile()) throw new StudioHttpError(404, `"${String(name)}" is not a file`);
    return real;
  }

  /** A run's folder (by its checked name). */
  runDir(name: string): string {
    return path.join(this.runsDir, Workspace.checkName(name, 'run name'));
  }

  /**
   * The real path of `p`, refused (403) unless it lies inside the workspace. For a path that does not exist
   * yet, its nearest existing parent is checked.
   */
  confine(p: string): string {
    let existing = path.resolve(p);
    let rest = '';
    while (!existsSync(existing) && !isSymlink(existing)) {
      rest = rest ? path.join(path.basename(existing), rest) : path.basename(existing);
      existing = path.dirname(existing);
    }
    let real: string;
    try {
      real = realpathSync(existing);
    } catch {
      // A dangling symlink: where it points is not known to be inside.
      throw new StudioHttpError(403, `${path.basename(p)}: refused (a link that leads nowhere)`);
    }
    if (!this.contains(real))
      throw new StudioHttpError(403, `${path.basename(p)}: refused (outside the workspace)`);
    return rest ? path.join(real, rest) : real;
  }

  contains(realPath: string): boolean {
    return realPath === this.root || realPath.startsWith(this.root + path.sep);
  }

  /** A path as the API shows it: relative to the workspace. */
  relative(p: string): string {
    return path.relative(this.root, p);
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
