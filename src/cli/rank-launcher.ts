/**
 * Runs one command as N cooperating processes ("ranks") on this machine, the way torchrun does: each child
 * gets the env contract MASTER_ADDR / MASTER_PORT / RANK / WORLD_SIZE / LOCAL_RANK / LOCAL_WORLD_SIZE /
 * GROUP_RANK and runs the same command line. Their output is forwarded line by line with a `[rank N]`
 * prefix (rank 0's stdout stays plain, so `alembic train --nproc 2 > summary.json` still works). When one
 * rank fails, the others are stopped at once and the launcher's error names the rank and its exit code:
 * a dead peer must never leave the rest waiting in a collective.
 *
 * The command line flags (--nproc, --nnodes, --node-rank, --master-addr, --master-port, --dist-timeout) are
 * shared by every verb that can run as a group. On one machine the ranks meet through a rendezvous file in
 * a private temporary folder, so nothing listens on the network (libtorch's TCPStore server would listen
 * on every interface). Several machines meet through a rendezvous file on storage they share
 * (--rdzv-file: c10d's FileStore, still no listener), or, when asked with --master-addr/--master-port, the
 * TCP store on node-rank 0, which then listens on every interface (said in one line at the start). A child
 * knows it is a rank (and must not launch again)
 * from ALEMBIC_RANK_CHILD=1. Written by hand because the launcher is Node's child_process plus a few lines
 * of bookkeeping; torchrun itself would need Python.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { DIST_TIMEOUT_ENV, RENDEZVOUS_FILE_ENV } from '../engine/distributed.js';
import { UserError } from '../util/errors.js';
import { nonNegativeInt, positiveInt, positiveNumber } from './run.js';

/** Where this machine's ranks sit in the whole group and how they meet. */
export interface RankLaunch {
  /** Ranks on this machine. */
  nproc: number;
  /** Machines in the group. */
  nnodes: number;
  /** This machine's index, 0 … nnodes-1; its ranks are nodeRank·nproc … nodeRank·nproc + nproc - 1. */
  nodeRank: number;
  /** The rendezvous address (rank 0's machine); loopback for one machine. */
  masterAddr: string;
  /** The rendezvous port; undefined on one machine = a free port. */
  masterPort?: number;
  /** Several machines: a rendezvous file on shared storage instead of the TCP store. */
  rendezvousFile?: string;
  /** Seconds a collective may wait for a peer before it fails. */
  timeoutSeconds?: number;
}

/** The launcher flags as commander parses them. */
export interface LaunchFlags {
  nproc?: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
  rdzvFile?: string;
  distTimeout?: number;
}

/** A rank that ended badly; the launcher's exit code is the rank's (or 1 after a signal). */
export class RankFailed extends Error {
  constructor(
    readonly rank: number,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(
      rank < 0
        ? `the launcher got ${signal}; every rank stopped after its current step (continue with --resume)`
        : `rank ${rank} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; stopped the other ranks`,
    );
    this.name = 'RankFailed';
  }
  /** The rank's exit code; after a signal, 128 + its number as a shell reports it (130 for Ctrl-C). */
  get exitCode(): number {
    if (this.code && this.code > 0) return this.code;
    const number = this.signal ? os.constants.signals[this.signal] : undefined;
    return number ? 128 + number : 1;
  }
}

/** Env var a launched child sees, so it runs as a rank instead of launching again. */
export const RANK_CHILD_ENV = 'ALEMBIC_RANK_CHILD';

/** Adds the launcher flags to a verb. */
export function addLaunchFlags(cmd: Command): Command {
  return cmd
    .option('--nproc <n>', 'run as N data-parallel processes on this machine', positiveInt('--nproc'))
    .option(
      '--nnodes <n>',
      'machines in the group (each runs the same command with its --node-rank)',
      positiveInt('--nnodes'),
    )
    .option(
      '--node-rank <i>',
      "this machine's index in the group, 0 … nnodes-1",
      nonNegativeInt('--node-rank'),
    )
    .option('--master-addr <host>', 'address of the node-rank-0 machine (default 127.0.0.1)')
    .option(
      '--master-port <port>',
      'rendezvous port on the master (default: a free port on one machine)',
      positiveInt('--master-port'),
    )
    .option(
      '--rdzv-file <path>',
      'several machines: meet through this file on storage all of them share (no network listener), ' +
        'instead of --master-addr/--master-port',
    )
    .option(
      '--dist-timeout <seconds>',
      'how long a collective waits for a peer before failing (default 300)',
      positiveNumber('--dist-timeout'),
    );
}

/** The launch the flags ask for, or undefined when this process should just run (no flags, or already a rank). */
export function launchRequested(
  flags: LaunchFlags,
  env: NodeJS.ProcessEnv = process.env,
): RankLaunch | undefined {
  if (env[RANK_CHILD_ENV] === '1') return undefined;
  const multi = flags.nnodes !== undefined && flags.nnodes > 1;
  const network =
    flags.nodeRank !== undefined || flags.masterAddr !== undefined || flags.masterPort !== undefined;
  if (flags.nproc === undefined && !multi) {
    if (network || flags.rdzvFile !== undefined)
      throw new UserError(
        '--node-rank, --master-addr, --master-port and --rdzv-file need --nproc or --nnodes',
      );
    return undefined;
  }
  const nnodes = flags.nnodes ?? 1;
  const nodeRank = flags.nodeRank ?? 0;
  if (nodeRank >= nnodes) throw new UserError(`--node-rank ${nodeRank}: must be below --nnodes ${nnodes}`);
  if (nnodes === 1 && flags.rdzvFile !== undefined)
    throw new UserError(
      '--rdzv-file is for several machines (--nnodes > 1); one machine meets in a private temp file',
    );
  if (flags.rdzvFile !== undefined && (flags.masterAddr !== undefined || flags.masterPort !== undefined))
    throw new UserError(
      '--rdzv-file or --master-addr/--master-port: the ranks meet one way, give one of them',
    );
  if (
    nnodes > 1 &&
    flags.rdzvFile === undefined &&
    (flags.masterAddr === undefined || flags.masterPort === undefined)
  )
    throw new UserError(
      '--nnodes > 1 needs --rdzv-file (a path on storage every machine shares) or --master-addr and ' +
        '--master-port (the node-rank-0 machine and a port open on it)',
    );
  return {
    nproc: flags.nproc ?? 1,
    nnodes,
    nodeRank,
    // With a rendezvous file no address is needed: Gloo binds to this machine's host name's address (or
    // GLOO_SOCKET_IFNAME's interface), not to loopback, so other machines can reach it.
    masterAddr: flags.masterAddr ?? (flags.rdzvFile !== undefined ? '' : '127.0.0.1'),
    masterPort: flags.masterPort,
    rendezvousFile: flags.rdzvFile === undefined ? undefined : rendezvousFileToUse(flags.rdzvFile),
    timeoutSeconds: flags.distTimeout,
  };
}

/**
 * The absolute path of a --rdzv-file, refused when it holds something other than a c10d FileStore: the
 * group removes that file when it ends, so a user's file given by mistake would be lost. The store is a
 * run of length-prefixed strings (a 64-bit length, then its bytes); a peer machine may have created it
 * already, so a file in that form (or empty) is taken, also while a peer is writing its last string.
 */
export function rendezvousFileToUse(file: string): string {
  const abs = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch {
    return abs; // not there yet (or unreadable: the rendezvous itself will say so)
  }
  let at = 0;
  let strings = 0;
  while (at + 8 <= bytes.length) {
    const length = bytes.readBigUInt64LE(at);
    if (length > BigInt(bytes.length - at - 8)) break;
    at += 8 + Number(length);
    strings++;
  }
  if (at !== bytes.length && strings === 0)
    throw new UserError(
      `--rdzv-file ${file}: this file holds something other than a rendezvous store, and the group removes ` +
        'its rendezvous file when it ends: give a path that does not exist yet',
    );
  return abs;
}

/** A TCP port nobody listens on right now (the OS picks it; the rendezvous binds it a moment later). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunRanksOptions {
  /** The command each rank runs; default: this process's own command line. */
  command?: string[];
  /** Extra environment for every rank (on top of process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where forwarded lines go. */
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** How long a stopped peer gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

/** The env contract of one rank (torchrun's names), plus thread counts that share the machine's cores. */
export function rankEnv(launch: RankLaunch, localRank: number, port: number): NodeJS.ProcessEnv {
  const threads = String(Math.max(1, Math.floor(os.availableParallelism() / launch.nproc)));
  return {
    // Ranks meeting through a rendezvous file (--rdzv-file) get no address or port.
    ...(launch.masterAddr ? { MASTER_ADDR: launch.masterAddr } : {}),
    ...(port > 0 ? { MASTER_PORT: String(port) } : {}),
    WORLD_SIZE: String(launch.nproc * launch.nnodes),
    RANK: String(launch.nodeRank * launch.nproc + localRank),
    LOCAL_RANK: String(localRank),
    LOCAL_WORLD_SIZE: String(launch.nproc),
    GROUP_RANK: String(launch.nodeRank),
    OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? threads,
    [RANK_CHILD_ENV]: '1',
    ...(launch.timeoutSeconds !== undefined ? { [DIST_TIMEOUT_ENV]: String(launch.timeoutSeconds) } : {}),
  };
}

/** Calls `emit` once per complete line of a stream, and once more for an unterminated last line. */
function forwardLines(stream: NodeJS.ReadableStream, emit: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      emit(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (pending) emit(pending);
    pending = '';
  });
}

/**
 * Runs this machine's ranks and waits for all of them. Resolves when every rank exited 0; rejects with
 * RankFailed naming the first rank that failed, after stopping the others.
 */
export async function runRanks(launch: RankLaunch, options: RunRanksOptions = {}): Promise<void> {
  const [exe, ...args] = options.command ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  if (!exe) throw new Error('runRanks: empty command');
  const port = launch.masterPort ?? (launch.rendezvousFile ? 0 : await freePort(launch.masterAddr));
  const out = options.stdout ?? ((line: string) => process.stdout.write(line + '\n'));
  const err = options.stderr ?? ((line: string) => process.stderr.write(line + '\n'));
  const grace = options.killGraceMs ?? 3000;
  const rendezvousDir =
    launch.nnodes === 1 ? mkdtempSync(path.join(os.tmpdir(), 'alembic-ranks-')) : undefined;
  const rendezvousFile =
    launch.rendezvousFile ?? (rendezvousDir ? path.join(rendezvousDir, 'store') : undefined);
  const rendezvous = rendezvousFile ? { [RENDEZVOUS_FILE_ENV]: rendezvousFile } : {};
  if (!rendezvousFile && launch.nodeRank === 0)
    err(
      `rendezvous: libtorch's TCP store listens on port ${port} of every interface of this machine (it takes ` +
        'no address); use a private network or a firewall, or --rdzv-file on shared storage for no listener',
    );
  const children: ChildProcess[] = [];
  let failure: RankFailed | undefined;

  const stopAll = () => {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      c.kill('SIGTERM');
      setTimeout(() => {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }, grace).unref();
    }
  };
  // A SIGTERM to the launcher is passed on to every rank; Ctrl-C in a terminal reaches them already (they
  // share its process group), and a second SIGINT would kill them outright. Either way the ranks finish
  // their step, rank 0 writes a checkpoint and all stop together, so --resume continues from there.
  const onSignal = (signal: NodeJS.Signals) => {
    failure ??= new RankFailed(-1, null, signal);
    if (signal !== 'SIGTERM') return;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const exits = Array.from({ length: launch.nproc }, (_, localRank) => {
      const env = rankEnv(launch, localRank, port);
      const rank = Number(env.RANK);
      const child = spawn(exe, args, {
        env: { ...process.env, ...options.env, ...env, ...rendezvous },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const prefix = `[rank ${rank}] `;
      forwardLines(child.stdout!, rank === 0 ? out : (line) => out(prefix + line));
      forwardLines(child.stderr!, (line) => err(prefix + line));
      return new Promise<void>((resolve) => {
        child.on('error', (e) => {
          err(`${prefix}could not start: ${e.message}`);
          failure ??= new RankFailed(rank, 127, null);
          stopAll();
          resolve();
        });
        child.on('close', (code, signal) => {
          if ((code !== 0 || signal) && !failure) {
            failure = new RankFailed(rank, code, signal);
            stopAll();
          }
          resolve();
        });
      });
    });
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (rendezvousDir) rmSync(rendezvousDir, { recursive: true, force: true });
  }
  if (failure) throw failure;
}

/**
 * The shape every group-capable verb takes: when the flags ask for a launch, run this command as ranks and
 * exit with the group's status; otherwise run `body` in this process (alone, or as one rank of a group).
 */
export async function launchOrRun(flags: LaunchFlags, body: () => Promise<void>): Promise<void> {
  const launch = launchRequested(flags);
  if (!launch) return body();
  try {
    await runRanks(launch);
  } catch (e) {
    if (e instanceof RankFailed) {
      process.stderr.write(`alembic: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    throw e;
  }
}
