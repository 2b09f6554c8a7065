/**
 * Data-parallel training's engine half: a process group over PyTorch's own c10d (Gloo on CPU), joined
 * through torchrun's env contract (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK), and the two
 * things a data-parallel step needs from it: the initial parameters broadcast from rank 0, and gradients
 * all-reduced in buckets.
 *
 * Every collective waits with a timeout, and any failure (a peer that died closes its sockets; a peer that
 * hangs runs out the timeout) becomes a DistributedError naming this rank, never a hang.
 *
 * Gradients are normally all-reduced during backward by PyTorch DDP's own reducer (ddp-reducer.ts). The
 * GradientReducer here reduces them after backward instead, all buckets started at once and then awaited:
 * the fallback for a libtorch whose c10d API the addon's reducer binding does not cover (see
 * overlappedReducerAvailable).
 */
import { cat, tensor, zeros } from './create.js';
import { native } from './native.js';
import { noGrad, tidy } from './scope.js';
import type { Tensor } from './tensor.js';
import { UserError } from '../util/errors.js';
import { workerRank } from '../util/worker-rank.js';

/** Where this process sits in a group, as torchrun (or `alembic … --nproc`) describes it. */
export interface RankEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
  /** How long a collective (and the rendezvous) waits for the peers. */
  timeoutMs: number;
  /** A rendezvous file on this machine instead of a TCP store (set by the single-machine launcher). */
  rendezvousFile?: string;
  /** A network interface for Gloo (GLOO_SOCKET_IFNAME, as in PyTorch). */
  socketInterface?: string;
}

/** Env var the single-machine launcher sets: rendezvous through this file, with no network listener. */
export const RENDEZVOUS_FILE_ENV = 'ALEMBIC_RENDEZVOUS_FILE';
/** Env var carrying the collective timeout in seconds (`--dist-timeout`). */
export const DIST_TIMEOUT_ENV = 'ALEMBIC_DIST_TIMEOUT';
const DEFAULT_TIMEOUT_S = 300;

/** A failed or timed-out collective; ends the command with one line, like any UserError. */
export class DistributedError extends UserError {
  constructor(rank: number, what: string, cause: string, timeoutMs: number) {
    super(
      `rank ${rank}: ${what} failed: ${cause} — a peer rank stopped or did not answer within ${timeoutMs / 1000} s`,
    );
    this.name = 'DistributedError';
  }
}

/** Whether this libtorch build has the Gloo process group (Debian: libgloo-dev at build time). */
export function distributedAvailable(): boolean {
  return native.distAvailable() === true;
}

/** How long a rank waits for its peers (`--dist-timeout`, passed on in the environment), in ms. */
export function distTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const timeout = env[DIST_TIMEOUT_ENV] === undefined ? DEFAULT_TIMEOUT_S : Number(env[DIST_TIMEOUT_ENV]);
  if (!(timeout > 0))
    throw new UserError(
      `environment variable ${DIST_TIMEOUT_ENV}: expected seconds > 0, got "${env[DIST_TIMEOUT_ENV]}"`,
    );
  return Math.round(timeout * 1000);
}

/** The group this process belongs to per its environment, or undefined when it runs alone (no WORLD_SIZE, or 1). */
export function rankEnvFromProcess(env: NodeJS.ProcessEnv = process.env): RankEnv | undefined {
  const worker = workerRank(env);
  if (worker.world === 1) return undefined;
  const timeoutMs = distTimeoutMs(env);
  const rendezvousFile = env[RENDEZVOUS_FILE_ENV] || undefined;
  // Ranks meeting through a rendezvous file need no address of rank 0.
  if (!rendezvousFile && !worker.masterAddr)
    throw new UserError('environment variable MASTER_ADDR: missing (the address of rank 0)');
  if (!rendezvousFile && worker.masterPort === undefined)
    throw new UserError('environment variable MASTER_PORT: missing (the port of rank 0)');
  return {
    rank: worker.rank,
    worldSize: worker.world,
    localRank: worker.localRank,
    masterAddr: worker.masterAddr ?? '',
    masterPort: worker.masterPort ?? 0,
    timeoutMs,
    rendezvousFile,
    socketInterface: env.GLOO_SOCKET_IFNAME || undefined,
  };
}

function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || addr.startsWith('127.');
}

/** Whether the addon binds c10d's DDP reducer (libtorch 1.x with Gloo), so gradients reduce during backward. */
export function overlappedReducerAvailable(): boolean {
  return native.reducerAvailable() === true;
}

/** A pending collective; wait() returns when it is done on every rank or throws a DistributedError. */
export interface PendingWork {
  wait(): void;
}

/** The processes of one data-parallel run, joined by a c10d Gloo process group. */
export class ProcessGroup {
  private constructor(
    readonly env: RankEnv,
    private readonly store: number,
    /** The addon's id of the c10d process group (for bindings that take one, as the DDP reducer). */
    readonly group: number,
  ) {}

  get rank(): number {
    return this.env.rank;
  }
  get size(): number {
    return this.env.worldSize;
  }

  /** Joins the group (blocks until every rank has arrived, or fails after the timeout). */
  static join(env: RankEnv): ProcessGroup {
    if (!distributedAvailable())
      throw new UserError(
        'this libtorch build has no Gloo, so it cannot run several processes: on Debian run ' +
          '`apt-get install -y libgloo-dev` and `npm run build:addon` again (a pip torch has no Gloo headers)',
      );
    const fail = (what: string, e: unknown) =>
      new DistributedError(env.rank, what, firstLine(e), env.timeoutMs);
    let store: number;
    try {
      store = env.rendezvousFile
        ? native.fileStore(env.rendezvousFile, env.worldSize, env.timeoutMs)
        : native.tcpStore(env.masterAddr, env.masterPort, env.worldSize, env.rank === 0, env.timeoutMs);
    } catch (e) {
      throw fail(`the rendezvous at ${env.rendezvousFile ?? `${env.masterAddr}:${env.masterPort}`}`, e);
    }
    const device = env.socketInterface
      ? `interface:${env.socketInterface}`
      : isLoopback(env.masterAddr)
        ? `host:${env.masterAddr === 'localhost' ? '127.0.0.1' : env.masterAddr}`
        : '';
    try {
      return new ProcessGroup(
        env,
        store,
        native.processGroupGloo(store, env.rank, env.worldSize, env.timeoutMs, device),
      );
    } catch (e) {
      native.closeStore(store);
      throw fail('joining the Gloo process group', e);
    }
  }

  /** Runs fn; a failure of the collective work in it becomes a DistributedError about `what` on this rank. */
  guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw new DistributedError(this.rank, what, firstLine(e), this.env.timeoutMs);
    }
  }

  /** Sums each tensor over all ranks, in place. */
  allreduceSum(tensors: Tensor[]): void {
    const handles = tensors.map((t) => t.handle);
    this.guard('all-reduce', () => native.allreduce(this.group, handles, this.env.timeoutMs));
  }

  /** Starts summing one (contiguous) tensor over all ranks, in place; the caller waits on the result. */
  startAllreduceSum(t: Tensor): PendingWork {
    const work = this.guard('all-reduce', () => native.allreduceStart(this.group, t.handle) as number);
    return { wait: () => this.guard('all-reduce', () => native.workWait(work, this.env.timeoutMs)) };
  }

  /** Overwrites each tensor, in place, with rank `root`'s copy. */
  broadcast(tensors: Tensor[], root = 0): void {
    const handles = tensors.map((t) => t.handle);
    this.guard('broadcast', () => native.broadcast(this.group, handles, root, this.env.timeoutMs));
  }

  /** Returns once every rank got here. */
  barrier(): void {
    this.guard('barrier', () => native.barrier(this.group, this.env.timeoutMs));
  }

  /** Sums plain numbers over all ranks (float64, so counts stay exact). */
  sumNumbers(values: number[]): number[] {
    if (values.length === 0) return [];
    return tidy(() => {
      const t = tensor(values, [values.length], 'float64');
      this.allreduceSum([t]);
      return t.toArray();
    });
  }

  close(): void {
    native.closeGroup(this.group);
    native.closeStore(this.store);
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** Makes every rank start from rank 0's parameters (and buffers), in place. */
export function broadcastParameters(group: ProcessGroup, params: Tensor[]): void {
  noGrad(() => group.broadcast(params, 0));
}

/** Default bucket size: PyTorch DDP's 25 MB. */
const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/**
 * Averages gradients over the ranks, in buckets: each bucket is one flat tensor of consecutive parameters'
 * gradients, all-reduced as one message. Ranks may hold different numbers of examples (the last batch of an
 * epoch), so each rank's mean gradient is weighted by its example count and the sum divided by the total:
 * exactly the mean gradient of the global batch. A parameter with no gradient on a rank counts as zero
 * there, and stays without one only if no rank produced one.
 */
export class GradientReducer {
  /** Parameter indices per bucket. */
  readonly buckets: number[][];

  constructor(
    private readonly group: ProcessGroup,
    private readonly params: Tensor[],
    bucketBytes = DEFAULT_BUCKET_BYTES,
  ) {
    this.buckets = [];
    let current: number[] = [];
    let bytes = 0;
    params.forEach((p, i) => {
      const size = p.numel * 4;
      if (current.length > 0 && bytes + size > bucketBytes) {
        this.buckets.push(current);
        current = [];
        bytes = 0;
      }
      current.push(i);
      bytes += size;
    });
    if (current.length > 0 || this.buckets.length === 0) this.buckets.push(current);
  }

  /**
   * Replaces every parameter's gradient with the global mean. `localWeight` is this rank's share of the
   * step (its example count), `totalWeight` the sum over ranks. `extras` are summed over the ranks as they
   * are (e.g. loss × count) and returned.
   */
  reduce(localWeight: number, totalWeight: number, extras: number[] = []): number[] {
    return tidy(() =>
      noGrad(() => {
        const grads = this.params.map((p) => p.grad);
        const flats = this.buckets.map((bucket, b) => {
          const parts = bucket.map((i) => (grads[i] ?? zeros(this.params[i]!.shape)).reshape(-1));
          const flags = bucket.map((i) => (grads[i] ? 1 : 0));
          const tail = tensor(b === 0 ? [...flags, ...extras] : flags);
          return parts.length > 0 ? cat([cat(parts).mul(localWeight), tail]) : tail;
        });
        flats.map((f) => this.group.startAllreduceSum(f)).forEach((w) => w.wait());
        let reducedExtras: number[] = [];
        this.buckets.forEach((bucket, b) => {
          const sizes = bucket.map((i) => this.params[i]!.numel);
          const n = sizes.reduce((a, s) => a + s, 0);
          const flat = flats[b]!;
          const tail = flat.slice(0, n, flat.size(0)).toArray();
          if (b === 0) reducedExtras = tail.slice(bucket.length);
          const mean = flat.slice(0, 0, n).div(totalWeight);
          const pieces = sizes.length > 0 ? mean.split(sizes) : [];
          bucket.forEach((i, k) => {
            const p = this.params[i]!;
            const g = pieces[k]!.reshape(...p.shape);
            const own = grads[i];
            if (own) own.copy_(g);
            else if (tail[k]! > 0) native.setGrad(p.handle, g.clone().handle);
          });
        });
        return reducedExtras;
      }),
    );
  }
}
