/**
 * Training settings for a chosen network (guide §4.4.3, §4.4.4). The guide fixes only the shape of the
 * advice: log/eval/save steps grow tenfold each (10/100/1000), Transformers take smaller batches than other
 * nets and large ones smaller still, longer inputs take smaller batches. The concrete numbers below are
 * alembic's defaults and say so.
 */
import type { Candidate } from './candidates.js';
import { isTransformer } from './candidates.js';
import type { PipelineStep } from './task-mapping.js';

export interface StepIntervals {
  trainLogStep: number;
  evalStep: number;
  saveModelStep: number;
}

export interface Hyperparams extends StepIntervals {
  trainExamples: number;
  maxLen: number;
  batchSize: number;
  learningRate: number;
  warmupRatio: number;
  epochs: number;
  stepsPerEpoch: number;
  totalSteps: number;
  notes: string[];
}

/** Sequence length: room for 1.5 × the average example, rounded up to a power of two, 16–512. */
export function maxLenFor(step: PipelineStep, texts: number, avgLength: number | undefined): number {
  if (avgLength === undefined) return step.task === 'reading_comprehension' ? 512 : 128;
  const need = Math.ceil(avgLength * texts * 1.5);
  return Math.min(512, Math.max(16, nextPowerOfTwo(need)));
}

/** guide §4.4.4: Transformers small batches (large smallest), other nets larger; short inputs allow more. */
export function batchSizeFor(c: Candidate, maxLen: number, trainExamples: number): number {
  const BASE = { tiny: 32, base: 16, large: 8 } as const;
  let batch = c.size === undefined ? 64 : BASE[c.size];
  if (maxLen <= 64) batch *= 2;
  else if (maxLen >= 256) batch = Math.max(isTransformer(c.id) ? 4 : 16, batch / 2);
  while (batch > 1 && batch > trainExamples) batch /= 2;
  return batch;
}

/** Usual fine-tuning rates for pretrained Transformers (smaller for bigger models); Adam defaults otherwise. */
export function learningRateFor(c: Candidate): number {
  if (c.size === undefined) return 1e-3;
  if (c.pretrainedDir === undefined) return 5e-4;
  return { tiny: 1e-4, base: 5e-5, large: 2e-5 }[c.size];
}

/** Fine-tuning needs few passes; nets from scratch need more, fewer as the data grows. */
export function epochsFor(c: Candidate, trainExamples: number): number {
  if (isTransformer(c.id) && c.pretrainedDir !== undefined) return trainExamples < 5_000 ? 5 : 3;
  if (trainExamples >= 1_000_000) return 2;
  if (trainExamples >= 100_000) return 5;
  return 10;
}

/**
 * guide §4.4.3: train_log_step, eval_step and save_model_step each ten times the last (10/100/1000).
 * Scaled to the run: about 50 evaluations per run, eval_step on a 10-20-50 ladder and at least 10.
 * The guide's 10/100/1000 is what a run of 5,000 steps gets.
 */
export function stepIntervals(totalSteps: number): StepIntervals {
  const target = totalSteps / 50;
  let evalStep = 10;
  for (let decade = 10; decade <= target; decade *= 10) {
    for (const m of [1, 2, 5]) if (decade * m <= target) evalStep = decade * m;
  }
  return { trainLogStep: evalStep / 10, evalStep, saveModelStep: evalStep * 10 };
}

export function hyperparamsFor(c: Candidate, trainExamples: number, maxLen: number): Hyperparams {
  const batchSize = batchSizeFor(c, maxLen, trainExamples);
  const epochs = epochsFor(c, trainExamples);
  const stepsPerEpoch = Math.max(1, Math.ceil(trainExamples / batchSize));
  const totalSteps = epochs * stepsPerEpoch;
  const transformer = isTransformer(c.id);
  const notes = [
    transformer
      ? 'batch_size: Transformers take small batches, large ones smaller still; short inputs allow more'
      : 'batch_size: nets other than Transformers can take larger batches',
    `train_log_step/eval_step/save_model_step grow tenfold, scaled to ${totalSteps.toLocaleString('en-US')} steps`,
    'learning rate and epochs: alembic defaults (the guide advises starting from defaults)',
  ];
  return {
    trainExamples,
    maxLen,
    batchSize,
    learningRate: learningRateFor(c),
    warmupRatio: transformer ? 0.1 : 0,
    epochs,
    stepsPerEpoch,
    totalSteps,
    ...stepIntervals(totalSteps),
    notes,
  };
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
