/**
 * The training batches of data held in memory: each epoch shuffles every split's examples into batches
 * with a generator that depends on the seed and the epoch alone (epochRng), so the position a checkpoint
 * saves (epoch, batches drawn) is enough to draw the same batches again after a resume. Several splits
 * (multi-task training) are interleaved: an epoch visits every batch of every task once, in an order
 * shuffled by the same generator, so tasks are sampled in proportion to their data (MT-DNN's scheme).
 */
import { batchIndices } from '../nets/batching.js';
import { epochRng } from '../util/rng.js';
import type { Batch, BatchSource, SourcePosition } from './training-hooks.js';

/** One task's training features; `task` and `weight` are copied onto its batches. */
export interface BatchSplit {
  features: unknown[];
  task?: string;
  weight?: number;
}

export class EpochBatches implements BatchSource {
  readonly batchesPerEpoch: number;
  private epoch = 0;
  private batchInEpoch = 0;
  private plan: { split: number; indices: number[] }[] | null = null;

  constructor(
    private readonly splits: BatchSplit[],
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.batchesPerEpoch = splits.reduce((s, x) => s + Math.ceil(x.features.length / batchSize), 0);
  }

  next(): Batch {
    if (this.batchInEpoch >= this.batchesPerEpoch) this.seek({ epoch: this.epoch + 1, batchInEpoch: 0 });
    this.plan ??= this.epochPlan(this.epoch);
    const { split, indices } = this.plan[this.batchInEpoch++];
    const { features, task, weight } = this.splits[split];
    const batch: Batch = { features: indices.map((i) => features[i]), epoch: this.epoch };
    if (task !== undefined) batch.task = task;
    if (weight !== undefined) batch.weight = weight;
    return batch;
  }

  position(): SourcePosition {
    return this.batchInEpoch >= this.batchesPerEpoch
      ? { epoch: this.epoch + 1, batchInEpoch: 0 }
      : { epoch: this.epoch, batchInEpoch: this.batchInEpoch };
  }

  seek(position: SourcePosition): void {
    this.epoch = position.epoch;
    this.batchInEpoch = position.batchInEpoch;
    this.plan = null;
  }

  /** One split: its shuffled batches. Several: each split's shuffled batches, then the list shuffled. */
  private epochPlan(epoch: number): { split: number; indices: number[] }[] {
    const rng = epochRng(this.seed, epoch);
    const plan = this.splits.flatMap((s, split) =>
      batchIndices(s.features.length, this.batchSize, rng).map((indices) => ({ split, indices })),
    );
    if (this.splits.length > 1) rng.shuffle(plan);
    return plan;
  }
}
