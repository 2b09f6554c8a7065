/**
 * What the training loop does differently when this process is one rank of a data-parallel group
 * (launched by `alembic … --nproc N`, or torchrun), plugged in through the loop's hooks (training-hooks.ts):
 *   - batches: each global batch of the epoch's permutation is `batch_size × world` examples and rank r
 *     takes the r-th slice of it, so N ranks take exactly the steps of one process with the global batch;
 *   - backward: gradients are averaged over the global batch while backward runs, by PyTorch DDP's reducer
 *     (engine/ddp-reducer.ts); DDP divides by the world size, so each rank's loss is first weighted by its
 *     share of the global batch (units × world ÷ global units, where units are what the loss is a mean over:
 *     examples, or target tokens — TaskModel.lossUnits) and a short last batch or uneven sentences stay exact;
 *   - afterBackward: the loss is averaged over the global batch (and, with a libtorch the reducer binding
 *     does not cover, the gradients too: engine/distributed.ts's GradientReducer, after backward);
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
import { DdpReducer, type ReducerTimings } from '../engine/ddp-reducer.js';
import {
  broadcastParameters,
  GradientReducer,
  overlappedReducerAvailable,
  ProcessGroup,
  rankEnvFromProcess,
} from '../engine/distributed.js';
import type { Tensor } from '../engine/tensor.js';
import { withDirLock } from '../util/dir-lock.js';
import { UserError } from '../util/errors.js';
import type { TrainerConfig } from '../config/run-config.js';
import type { Batch, BatchSource, ProcessHooks, SourcePosition, TrainingMode } from './training-hooks.js';
import { trainingLoop, type TrainingRun, type TrainOptions } from './training-loop.js';

/**
 * One step's gradient averaging (DataParallel.start): `backward` (absent: the loop's own) runs backward from
 * this rank's loss, `afterBackward` finishes the step given this rank's count of what the loss is a mean
 * over (ShardedBatches.lastCounts), the global batch's and this rank's mean loss, and returns the global
 * batch's mean loss.
 */
export interface GradientStep {
  backward?: (loss: Tensor, localCount: number, globalCount: number) => void;
  afterBackward: (localCount: number, globalCount: number, localLoss: number) => number;
}

/** What the gradient averaging cost so far (DataParallel.costLine prints it). */
interface ReduceCost {
  /** How the gradients were reduced: overlapped with backward (c10d's DDP reducer) or after it. */
  overlapped: boolean;
  buckets: number;
  bytesPerStep: number;
  steps: number;
  /** Milliseconds spent after backward: waiting for the all-reduce (fallback), averaging the loss. */
  afterMs: number;
  /** Milliseconds from the first step's end to the last's (the steps in between, whole). */
  spanMs: number;
  firstAt: number;
  /** The DDP reducer's timings (overlapped only), read when the run ends. */
  timings?: ReducerTimings;
}

export class DataParallel {
  private cost: ReduceCost = {
    overlapped: false,
    buckets: 0,
    bytesPerStep: 0,
    steps: 0,
    afterMs: 0,
    spanMs: 0,
    firstAt: 0,
  };
  private reducer: DdpReducer | undefined;

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
    const batches = new ShardedBatches(mode.batches, this.rank, perRank, mode.lossUnits?.bind(mode));
    let step: GradientStep | undefined;
    const hooks: ProcessHooks = {
      writesOutputs: this.isMain,
      onStart: (params, resumedStep) => {
        this.assertSame('the step of the checkpoint to resume from', resumedStep ?? -1);
        step = this.start(params);
      },
      backward: (loss) => {
        const { local, global } = batches.lastCounts;
        if (step!.backward) step!.backward(loss, local, global);
        else loss.backward();
      },
      afterBackward: (_params, localLoss) =>
        step!.afterBackward(batches.lastCounts.local, batches.lastCounts.global, localLoss),
      stopTogether: (stopHere) => this.group.sumNumbers([stopHere ? 1 : 0])[0]! > 0,
    };
    return { mode: { ...mode, batches }, hooks };
  }

  /**
   * Sets every rank's parameters to rank 0's and returns the step's gradient averaging over the global
   * batch: during backward through c10d's DDP reducer where the addon binds it, else after backward.
   */
  start(params: Tensor[]): GradientStep {
    broadcastParameters(this.group, params);
    // Frozen parameters get no gradient to reduce (the broadcast above still gave them rank 0's values).
    const trained = [...new Set(params)].filter((p) => p.requiresGrad);
    this.cost.bytesPerStep = trained.reduce((s, p) => s + p.numel * 4, 0);
    const timed = <T>(fn: () => T): T => {
      const started = performance.now();
      const result = fn();
      const c = this.cost;
      const now = performance.now();
      if (c.steps === 0) c.firstAt = now;
      c.steps++;
      c.afterMs += now - started;
      c.spanMs = now - c.firstAt;
      return result;
    };
    if (!overlappedReducerAvailable() || !ddpReducerWanted() || trained.length === 0) {
      const reducer = new GradientReducer(this.group, trained);
      this.cost.buckets = reducer.buckets.length;
      return {
        afterBackward: (local, global, localLoss) =>
          timed(() => reducer.reduce(local, global, [local > 0 ? localLoss * local : 0])[0]!) / global,
      };
    }
    this.reducer = DdpReducer.create(this.group, trained);
    this.cost.overlapped = true;
    this.cost.buckets = this.reducer.buckets;
    const reducer = this.reducer;
    return {
      // DDP averages the ranks' gradients; weighted by units × world ÷ global units (ShardedBatches.lastCounts:
      // examples, or target tokens), that average is the gradient of the global batch's mean loss.
      backward: (loss, local, global) => reducer.backward(loss.mul((local * this.size) / global)),
      afterBackward: (local, global, localLoss) =>
        timed(() => this.group.sumNumbers([local > 0 ? localLoss * local : 0])[0]!) / global,
    };
  }

  /** Reads the reducer's timings and removes its hooks from the parameters (the run is over). */
  finish(): void {
    if (!this.reducer) return;
    this.cost.timings = this.reducer.timings();
    this.reducer.close();
    this.reducer = undefined;
  }

  /**
   * One line on what averaging the gradients cost per step: the all-reduce (the loss's own small one
   * included) and its share of the step, then how it was done, how much of it ran while backward computed
   * and how much was waited for after backward, with that wait's share of the step.
   */
  costLine(): string {
    const c = this.cost;
    const after = c.steps > 0 ? c.afterMs / c.steps : 0;
    const t = c.timings;
    const totalMs = (t ? t.commMs : 0) + after;
    const duringMs = t ? Math.min(t.overlapMs, t.commMs) : 0;
    const waitMs = totalMs - duringMs;
    // The span covers steps 2 … n whole (it starts at the end of step 1).
    const stepMs = c.steps > 1 ? c.spanMs / (c.steps - 1) : 0;
    const share = (ms: number) => `${((100 * ms) / stepMs).toFixed(1)}%`;
    const buckets = `${c.buckets} bucket${c.buckets === 1 ? '' : 's'}`;
    return (
      `data-parallel: ${this.size} ranks; all-reduce of ${(c.bytesPerStep / 1e6).toFixed(2)} MB of gradients ` +
      `${totalMs.toFixed(2)} ms per step` +
      (stepMs > 0 ? ` (${share(totalMs)} of a ${stepMs.toFixed(1)} ms step)` : '') +
      `; in ${buckets} ${c.overlapped ? 'overlapped with backward (c10d DDP reducer)' : 'after backward'}: ` +
      `${duringMs.toFixed(2)} ms of it during backward, ${waitMs.toFixed(2)} ms waited after backward` +
      (stepMs > 0 ? ` (${share(waitMs)} of the step)` : '')
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

/** Env var that turns c10d's DDP reducer off ("0"): gradients are then reduced after backward (as a baseline). */
export const DDP_REDUCER_ENV = 'ALEMBIC_DDP_REDUCER';

function ddpReducerWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[DDP_REDUCER_ENV];
  if (value === undefined || value === '' || value === '1') return true;
  if (value === '0') return false;
  throw new UserError(`environment variable ${DDP_REDUCER_ENV}: expected 0 or 1, got "${value}"`);
}

/** Rank r's slices of another source's global batches; positions are the global source's. */
export class ShardedBatches implements BatchSource {
  /**
   * What the loss of the last batch is a mean over (its examples, or its target tokens for a loss per
   * token): this rank's slice's and the whole global batch's. The ranks' losses weighted by them average
   * to the global batch's mean loss.
   */
  lastCounts = { local: 0, global: 0 };

  constructor(
    private readonly global: BatchSource,
    private readonly rank: number,
    private readonly perRank: number,
    private readonly units: (batch: Batch) => number = (batch) => batch.features.length,
  ) {}

  get batchesPerEpoch(): number {
    return this.global.batchesPerEpoch;
  }
  /**
   * This rank's slice of the next global batch. A rank the last, short, global batch of an epoch leaves
   * without examples gets a stand-in, the batch's first example, counted as none (local 0, so weighted 0):
   * its backward then runs through the same parameters as its peers', and it takes part in every bucket's
   * all-reduce with zeros.
   */
  next(): Batch {
    const batch = this.global.next();
    const features = batch.features.slice(this.rank * this.perRank, (this.rank + 1) * this.perRank);
    const mine = { ...batch, features };
    this.lastCounts = { local: features.length > 0 ? this.units(mine) : 0, global: this.units(batch) };
    return features.length > 0 ? mine : { ...batch, features: batch.features.slice(0, 1) };
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
  let run: TrainingRun;
  try {
    run = await trainingLoop(trainer, plugged.mode, config, rankOpts);
    if (!run.interrupted) dp.barrier();
  } finally {
    dp.finish();
  }
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
