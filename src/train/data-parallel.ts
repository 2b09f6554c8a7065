/**
 * What a training loop does differently when it is one rank of a data-parallel group (launched by
 * `alembic … --nproc N`, or torchrun): each global batch of the epoch's permutation is `batch_size × world`
 * examples and rank r takes the r-th slice of it, so N ranks take the same steps as one process with the
 * global batch; gradients are averaged over the ranks after backward; rank 0 alone writes (metrics,
 * checkpoints, best/, reports) and holds the output folder's lock. A stop request (a signal) on any rank
 * travels with the step's gradients, so every rank stops after the same step.
 *
 * A process joins at most one group; `dataParallel()` joins it on first use and keeps it.
 */
import os from 'node:os';
import {
  broadcastParameters,
  GradientReducer,
  ProcessGroup,
  rankEnvFromProcess,
} from '../engine/distributed.js';
import type { Tensor } from '../engine/tensor.js';
import { withDirLock } from '../util/dir-lock.js';
import { UserError } from '../util/errors.js';

/** One reduced step: the global batch's mean loss, and whether any rank was asked to stop. */
export interface ReducedStep {
  loss: number;
  stop: boolean;
}

export class DataParallel {
  private reducer: GradientReducer | undefined;

  constructor(readonly group: ProcessGroup) {}

  get rank(): number {
    return this.group.rank;
  }
  get size(): number {
    return this.group.size;
  }
  get isMain(): boolean {
    return this.group.rank === 0;
  }

  /** This rank's part of a global batch of up to perRank × size examples (possibly empty at an epoch's end). */
  shard<T>(globalBatch: readonly T[], perRank: number): T[] {
    return globalBatch.slice(this.rank * perRank, (this.rank + 1) * perRank);
  }

  /** Makes every rank start from rank 0's parameters and prepares the gradient buckets. */
  attach(params: Tensor[]): void {
    broadcastParameters(this.group, params);
    this.reducer = new GradientReducer(this.group, params);
  }

  /**
   * After backward: averages the gradients over the global batch (this rank held `localCount` of its
   * `globalCount` examples and its mean loss was `localLoss`), and shares whether this rank must stop.
   */
  reduceStep(localCount: number, globalCount: number, localLoss: number, stopHere: boolean): ReducedStep {
    if (!this.reducer) throw new Error('DataParallel.reduceStep before attach');
    const [lossSum, stops] = this.reducer.reduce(localCount, globalCount, [
      localCount > 0 ? localLoss * localCount : 0,
      stopHere ? 1 : 0,
    ]);
    return { loss: lossSum! / globalCount, stop: stops! > 0 };
  }

  /** Fails on every rank unless all ranks give the same number (e.g. the step of the checkpoint they resume). */
  assertSame(what: string, value: number): void {
    const [sum, squares] = this.group.sumNumbers([value, value * value]);
    const n = this.size;
    if (sum! !== n * value || squares! !== n * value * value)
      throw new UserError(
        `rank ${this.rank}: ${what} differs between the ranks (here ${value}); every rank must see the same ` +
          'trainer.output_dir (shared storage when the ranks run on several machines)',
      );
  }

  barrier(): void {
    this.group.barrier();
  }
}

let joined: DataParallel | null | undefined;

/** This process's group per its environment (joined on the first call), or undefined when it runs alone. */
export function dataParallel(): DataParallel | undefined {
  if (joined === undefined) {
    const env = rankEnvFromProcess();
    joined = env ? new DataParallel(ProcessGroup.join(env)) : null;
  }
  return joined ?? undefined;
}

/** Whether this process writes the run's files: it runs alone, or it is rank 0. */
export function isMainRank(): boolean {
  return dataParallel()?.isMain ?? true;
}

/** Intra-op threads when the config does not say: this machine's cores shared by its ranks. */
export function defaultThreads(): number {
  const local = Number(process.env.LOCAL_WORLD_SIZE ?? '1');
  return Math.max(
    1,
    Math.floor(os.availableParallelism() / (Number.isInteger(local) && local > 0 ? local : 1)),
  );
}

/** Holds the output folder's lock for fn, on the rank that writes (the others write nothing there). */
export function withRunLock<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  return isMainRank() ? withDirLock(dir, fn) : Promise.resolve().then(fn);
}
