/**
 * The points where a training run is extended, so that one loop (training-loop.ts) serves single-task
 * training, distillation and multi-task training alike:
 *   - a BatchSource says which batch (and which task) comes next, with a position a checkpoint saves;
 *   - a TrainingMode says what a batch's loss is, what the dev evaluation scores, what a checkpoint and
 *     best/ hold;
 *   - ProcessHooks let several processes train one model: hooks on backward and between backward and the
 *     optimizer step (to all-reduce gradients), and whether this process writes the run's files (only one
 *     of them should).
 */
import type { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';

/** One batch of encoded examples. */
export interface Batch {
  features: unknown[];
  /** The pass over the data it belongs to, counted from 0 (logged counted from 1). */
  epoch: number;
  /** Multi-task training: which task the batch is from (its name), and the factor on its loss. */
  task?: string;
  weight?: number;
}

/** Where a batch source stands, saved in every checkpoint; the next batch is the same after a resume. */
export interface SourcePosition {
  /** Passes over the data completed. */
  epoch: number;
  /** Batches of the current pass already drawn. */
  batchInEpoch: number;
  /** Anything else a source needs to continue exactly (a stream's offset, a buffer's seed), as JSON. */
  state?: Record<string, unknown>;
}

/** The training batches in order. Deterministic: after seek(position), next() gives what it gave then. */
export interface BatchSource {
  /** Batches in one pass over the data: the step count of `trainer.epochs` and of early stopping's patience. */
  readonly batchesPerEpoch: number;
  next(): Batch;
  /** Where the source stands now; a finished pass reads as the start of the next one. */
  position(): SourcePosition;
  seek(position: SourcePosition): void;
}

/** One dev evaluation. */
export interface Evaluation {
  /** The metrics.jsonl lines it adds (one per task in multi-task training), after type, step and epoch. */
  lines: Record<string, unknown>[];
  /** Every score, for the 'eval' event and the best model's record. */
  metrics: Record<string, number>;
  /** The score best/ and early stopping follow. */
  metric: string;
  value: number;
  lowerIsBetter: boolean;
  /** The console line: the scores in words. */
  text: string;
}

/** What a kind of training adds to the loop. */
export interface TrainingMode {
  /** The module whose parameters the optimizer updates (weight decay chosen by parameter name). */
  trained: Module;
  /** The weights a checkpoint saves and restores (the same tensors as `trained`'s, maybe under other names). */
  model: Module;
  batches: BatchSource;
  /** The loss of a batch, a scalar tensor backward runs through (before the batch's weight). */
  loss(batch: Batch): Tensor;
  /** What that loss is a mean over, when not the batch's examples (see TaskModel.lossUnits). */
  lossUnits?(batch: Batch): number;
  /** Scores the current weights on dev; absent without dev data. */
  evaluate?: () => Evaluation;
  /** Saves the current weights as best/ (the best on dev, or the final model without dev data). */
  saveBest(step: number, evaluation?: Evaluation): void;
  /** Writes the model files of a checkpoint into `dir` (weights at least; what a reader needs besides). */
  writeCheckpointModel(dir: string, step: number): void;
}

/** Hooks of the process running the loop, for training one model in several processes. */
export interface ProcessHooks {
  /** Runs backward from the step's loss in place of `loss.backward()` (e.g. reducing gradients as they come). */
  backward?: (loss: Tensor) => void;
  /**
   * After backward, before gradient clipping and the optimizer step (e.g. an all-reduce of the gradients);
   * may return the loss to log instead of this process's own.
   */
  afterBackward?: (params: Tensor[], loss: number) => number | void;
  /** Once the weights are set (fresh, or restored from the checkpoint of `resumedStep`), before the first step. */
  onStart?: (params: Tensor[], resumedStep: number | null) => void;
  /**
   * After every step, told whether this process must stop (a signal, an abort): whether the run stops here.
   * Processes training together must stop after the same step.
   */
  stopTogether?: (stopHere: boolean) => boolean;
  /** False in all but one process: only that one writes metrics.jsonl, checkpoints, best/ and the report. */
  writesOutputs?: boolean;
}
