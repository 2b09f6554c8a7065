/**
 * What the training loop does differently when this process is one rank of a data-parallel group
 * (launched by `alembic … --nproc N`, or torchrun), plugged in through the loop's hooks (training-hooks.ts):
 *   - batches: each global batch of the epoch's permutation is `batch_size × world` examples and rank r
 *     takes the r-th slice of it, so N ranks take exactly the steps of one process with the global batch;
 *   - afterBackward: gradients (and the loss) are averaged over the global batch (engine/distributed.ts);
 *   - onStart: every rank starts from rank 0's weights, and all resume from the same checkpoint;
 *   - stopTogether: a stop asked of any rank (a signal) stops every rank after the same step;
 *   - writesOutputs: rank 0 alone writes (metrics, checkpoints, best/, reports) and holds the output lock.
 * Dev and test evaluation is shared out too (sharded-evaluation.ts): each rank predicts its slice, the
 * predictions are gathered to every rank, and all score the whole set, so every rank takes the same
 * best-model and early-stopping decisions.
 *
 * A process joins at most one group; `dataParallel()` joins it on first use and keeps it.
 */
import os from 'node:os';
import { zeros } from '../engine/create.js';
import {
  broadcastParameters,
  GradientReducer,
  ProcessGroup,
  rankEnvFromProcess,
} from '../engine/distributed.js';
import type { Tensor } from '../engine/tensor.js';
import { withDirLock } from '../util/dir-lock.js';
import { UserError } from '../util/errors.js';
import type { TrainerConfig } from '../config/run-config.js';
import type { Batch, BatchSource, ProcessHooks, SourcePosition, TrainingMode } from './training-hooks.js';
import { trainingLoop, type TrainingRun, type TrainOptions } from './training-loop.js';

/** One step's gradient averaging (DataParallel.start): returns the global batch's mean loss. */
export type GradientStep = (localCount: number, globalCount: number, localLoss: number) => number;

/** What the gradient averaging cost so far (DataParallel.costLine prints it). */
interface ReduceCost {
  steps: number;
  /** Milliseconds spent in the gradient all-reduce. */
  reduceMs: number;
  /** Milliseconds from the first reduce to the last (the steps in between, whole). */
  spanMs: number;
  firstAt: number;
  bytesPerStep: number;
}

export class DataParallel {
  private cost: ReduceCost = { steps: 0, reduceMs: 0, spanMs: 0, firstAt: 0, bytesPerStep: 0 };

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

  /**
   * The loop's hooks and a mode whose batches are this rank's slices. `mode.batches` must draw global
   * batches (trainer.batch_size × size: see globalBatchSize); `perRank` is trainer.batch_size.
   */
  plug(mode: TrainingMode, perRank: number): { mode: TrainingMode; hooks: ProcessHooks } {
    const batches = new ShardedBatches(mode.batches, this.rank, perRank);
    let reduce: GradientStep | undefined;
    const loss = (batch: Batch): Tensor => {
      // A rank can be left without examples by the last, short, global batch of an epoch: it still takes
      // part in the all-reduce, with a zero loss whose backward leaves no gradient.
      if (batch.features.length === 0) {
        const none = zeros([]);
        none.requiresGrad = true;
        return none;
      }
      return mode.loss(batch);
    };
    const hooks: ProcessHooks = {
      writesOutputs: this.isMain,
      onStart: (params, resumedStep) => {
        this.assertSame('the step of the checkpoint to resume from', resumedStep ?? -1);
        reduce = this.start(params);
      },
      afterBackward: (_params, localLoss) =>
        reduce!(batches.lastCounts.local, batches.lastCounts.global, localLoss),
      stopTogether: (stopHere) => this.group.sumNumbers([stopHere ? 1 : 0])[0]! > 0,
    };
    return { mode: { ...mode, batches, loss }, hooks };
  }

  /**
   * Sets every rank's parameters to rank 0's; returns the step's gradient averaging: given this rank's
   * example count, the global batch's and this rank's mean loss, it averages the gradients over the global
   * batch and returns the global batch's mean loss.
   */
  start(params: Tensor[]): GradientStep {
    broadcastParameters(this.group, params);
    const reducer = new GradientReducer(this.group, params);
    this.cost.bytesPerStep = params.reduce((s, p) => s + p.numel * 4, 0);
    return (local, global, localLoss) => {
      const started = performance.now();
      const [lossSum] = reducer.reduce(local, global, [local > 0 ? localLoss * local : 0]);
      const c = this.cost;
      const now = performance.now();
      if (c.steps === 0) c.firstAt = started;
      c.steps++;
      c.reduceMs += now - started;
      c.spanMs = now - c.firstAt;
      return lossSum! / global;
    };
  }

  /** One line on what averaging the gradients cost per step, and its share of the step. */
  costLine(): string {
    const c = this.cost;
    const perStep = c.steps > 0 ? c.reduceMs / c.steps : 0;
    // The span covers steps 2 … n whole (it starts inside step 1's reduce).
    const stepMs = c.steps > 1 ? c.spanMs / (c.steps - 1) : 0;
    return (
      `data-parallel: ${this.size} ranks; all-reduce of ${(c.bytesPerStep / 1e6).toFixed(2)} MB of gradients ` +
      `${perStep.toFixed(2)} ms per step` +
      (stepMs > 0 ? ` (${((100 * perStep) / stepMs).toFixed(1)}% of a ${stepMs.toFixed(1)} ms step)` : '')
    );
  }

  /** Fails on every rank unless all ranks give the same number. */
  assertSame(what: string, value: number): void {
    const [sum, squares] = this.group.sumNumbers([value, value * value]);
    const n = this.size;
    if (sum !== n * value || squares !== n * value * value)
      throw new UserError(
        `rank ${this.rank}: ${what} differs between the ranks (here ${value}); every rank must see the same ` +
          'trainer.output_dir (shared storage when the ranks run on several machines)',
      );
  }

  barrier(): void {
    this.group.barrier();
  }
}

/** Rank r's slices of another source's global batches; positions are the global source's. */
export class ShardedBatches implements BatchSource {
  /** Examples of the last batch: this rank's and the whole global batch's. */
  lastCounts = { local: 0, global: 0 };

  constructor(
    private readonly global: BatchSource,
    private readonly rank: number,
    private readonly perRank: number,
  ) {}

  get batchesPerEpoch(): number {
    return this.global.batchesPerEpoch;
  }
  next(): Batch {
    const batch = this.global.next();
    const features = batch.features.slice(this.rank * this.perRank, (this.rank + 1) * this.perRank);
    this.lastCounts = { local: features.length, global: batch.features.length };
    return { ...batch, features };
  }
  position(): SourcePosition {
    return this.global.position();
  }
  seek(position: SourcePosition): void {
    this.global.seek(position);
  }
}

/**
 * The training loop for this process: alone, as given; as a rank of a data-parallel group, with the mode's
 * batches sliced for this rank, the gradients averaged over the group, and every rank but 0 silent and
 * writing nothing. The ranks return together, once rank 0 has written best/ and the last checkpoint (what
 * comes next on any rank may read them). Returns the options the loop ran with: their `writesOutputs` says
 * whether this process finishes the run's files.
 */
export async function rankTrainingLoop(
  trainer: TrainerConfig,
  mode: TrainingMode,
  config: unknown,
  opts: TrainOptions,
): Promise<{ run: TrainingRun; opts: TrainOptions }> {
  const dp = dataParallel();
  if (!dp) return { run: await trainingLoop(trainer, mode, config, opts), opts };
  const plugged = dp.plug(mode, trainer.batch_size);
  const rankOpts: TrainOptions = {
    ...opts,
    ...plugged.hooks,
    ...(dp.isMain ? {} : { log: () => {}, quiet: true }),
  };
  const run = await trainingLoop(trainer, plugged.mode, config, rankOpts);
  if (!run.interrupted) dp.barrier();
  rankOpts.log?.(dp.costLine());
  return { run, opts: rankOpts };
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

/**
 * Makes this process train alone although its environment names a group: for workers that share other
 * work through files (data distillation's labelling), where one of them trains and the others do not.
 */
export function trainAlone(): void {
  if (joined) throw new Error('trainAlone: this process has joined a data-parallel group already');
  joined = null;
}

/** Whether this process writes the run's files: it runs alone, or it is rank 0. */
export function isMainRank(): boolean {
  return dataParallel()?.isMain ?? true;
}

/** The examples of one step: trainer.batch_size on each rank of the group. */
export function globalBatchSize(perRank: number): number {
  return perRank * (dataParallel()?.size ?? 1);
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
