/**
 * An exclusive lock on an output directory for the life of a run (train, distill, data-distill, pretrain,
 * multitask, export): two runs writing one directory interleave their logs and overwrite each other's
 * models. The lock is `DIR/.alembic.lock`, a JSON file {pid, host, command, since}, created atomically (written
 * under a unique name, then hard-linked to the lock name, which fails if the lock exists), so a reader never
 * sees a half-written lock. A lock whose holder is a dead process on this host is stale and taken over with a
 * one-line note; a live holder is named in a UserError. A process may take the same lock again (a pipeline
 * that locks its output_dir and then trains into a stage folder under it). Locks are released on return, on
 * errors, on process.exit and on SIGINT/SIGTERM (raiseSignal, or a listener when nobody else handles it).
 *
 * Written by hand: proper-lockfile and lockfile decide staleness by the lock's age, which a long training run
 * cannot refresh while a step runs; here staleness is decided by whether the holding process is alive.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from './errors.js';
import { checkOutputDir } from './output-path.js';

export const LOCK_FILE = '.alembic.lock';

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

export interface DirLock {
  file: string;
  release(): void;
}

/** Locks this process holds: lock file → how many times taken. */
const held = new Map<string, number>();
let exitHookInstalled = false;

/** Takes the lock on `dir` (created if missing), after checking that it can be a writable directory. */
export function lockDir(dir: string, command = commandLine()): DirLock {
  checkOutputDir(dir);
  mkdirSync(dir, { recursive: true });
  const file = path.join(path.resolve(dir), LOCK_FILE);
  const release = () => releaseLock(file);
  const count = held.get(file);
  if (count !== undefined) {
    held.set(file, count + 1);
    return { file, release };
  }
  const me: LockHolder = { pid: process.pid, host: os.hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    if (createExclusive(file, JSON.stringify(me) + '\n')) break;
    const holder = readHolder(file);
    if (holder && (holder.host !== me.host || processAlive(holder.pid)) && holder.pid !== process.pid) {
      throw new UserError(
        `${dir}: in use by another run (pid ${holder.pid} on ${holder.host}, "${holder.command}", since ` +
          `${holder.since}); wait for it to finish, or remove ${file} if that run is gone`,
      );
    }
    // Unreadable and seconds old: a run is writing it right now (where hard links are not available).
    if (!holder && Date.now() - mtimeMs(file) < 2000) {
      throw new UserError(`${dir}: another run is taking the lock right now (${file})`);
    }
    if (attempt >= 3) throw new UserError(`${file}: cannot take the lock (it keeps changing); try again`);
    process.stderr.write(
      `alembic: ${dir}: taking over the lock of a run that is gone` +
        (holder
          ? ` (pid ${holder.pid}, "${holder.command}", since ${holder.since})`
          : ' (unreadable lock file)') +
        '\n',
    );
    rmSync(file, { force: true });
  }
  held.set(file, 1);
  installHooks();
  return { file, release };
}

/** Runs `fn` holding the lock on `dir`; released however `fn` ends. */
export async function withDirLock<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  const lock = lockDir(dir);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** The holder of the lock on `dir` if a live process other than this one holds it. */
export function liveHolder(dir: string): LockHolder | undefined {
  const holder = readHolder(path.join(dir, LOCK_FILE));
  if (!holder || holder.pid === process.pid) return undefined;
  return holder.host !== os.hostname() || processAlive(holder.pid) ? holder : undefined;
}

/** Releases every lock this process holds, then ends the process with `signal` as the user asked. */
export function raiseSignal(signal: NodeJS.Signals): void {
  releaseAll();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

/** Whether a process with this id runs on this host (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates `file` with `content` unless it exists; false if it does. */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, content, { flag: 'wx' });
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
    return createDirectly(file, content); // a file system without hard links
  } finally {
    rmSync(tmp, { force: true });
  }
}

function createDirectly(file: string, content: string): boolean {
  try {
    writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

function mtimeMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function releaseLock(file: string): void {
  const count = held.get(file);
  if (count === undefined) return;
  if (count > 1) {
    held.set(file, count - 1);
    return;
  }
  held.delete(file);
  // Only our own lock: a file that names another holder was taken over after ours was removed by hand.
  if (readHolder(file)?.pid === process.pid) rmSync(file, { force: true });
  if (held.size === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function releaseAll(): void {
  for (const file of [...held.keys()]) {
    held.set(file, 1);
    releaseLock(file);
  }
}

/**
 * A signal nobody else listens for would end the process without 'exit' handlers: release the locks and
 * re-raise it. When another listener handles the signal (the trainer stops at a checkpoint), this one stays
 * out of the way (it runs first: prepended).
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  raiseSignal(signal);
}

function installHooks(): void {
  if (!exitHookInstalled) {
    process.on('exit', releaseAll);
    exitHookInstalled = true;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    if (!process.listeners(signal).includes(onSignal)) process.prependListener(signal, onSignal);
  }
}

/** How the holder is named to a second run: the command line that took the lock. */
function commandLine(): string {
  const [, script, ...args] = process.argv;
  const name = script ? path.basename(script).replace(/\.(js|ts)$/, '') : 'node';
  return [name === 'main' ? 'alembic' : name, ...args].join(' ');
}
