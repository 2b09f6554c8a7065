/**
 * Training the teacher and the students through the ordinary trainer: their configs are the user's
 * training configs with the dataset files, output folder (and soft labels) set by the pipeline, and a
 * run continues from its newest checkpoint when the pipeline is run again after an interruption.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, stripComments, type TrainConfig } from '../../config/run-config.js';
import { latestCheckpoint, TRAINING_RUN } from '../../train/checkpoint.js';
import { train, type TrainOptions, type TrainSummary } from '../../train/trainer.js';
import { Interrupted, UserError } from '../../util/errors.js';
import { removeDir } from '../../util/replace-dir.js';
import type { ConfigSource } from './data-distill-config.js';
// Registers soft-label training with the task registry: the configs built here may carry soft_labels.
import './soft-label-task.js';

export const DISTILLABLE_TASKS = ['text_classification', 'text_pair_classification'] as const;

export interface TrainingFiles {
  train: string;
  dev?: string;
  test?: string;
  labelMap?: string;
  /** The file the vocabulary is counted on (dataset.vocab.from), if not the training file. */
  vocabFrom?: string;
  outputDir: string;
  softLabels?: { temperature: number; alpha: number };
}

/** The user's training config with the pipeline's files filled in. */
export function trainConfigFor(source: ConfigSource, files: TrainingFiles): TrainConfig {
  const raw = structuredClone(stripComments(source.raw)) as Record<string, unknown>;
  raw.task ??= 'text_classification';
  const dataset: Record<string, unknown> = { ...((raw.dataset as object | undefined) ?? {}) };
  for (const [key, value] of [
    ['train', files.train],
    ['dev', files.dev],
    ['test', files.test],
    ['label_map', files.labelMap],
  ] as const) {
    if (value === undefined) delete dataset[key];
    else dataset[key] = value;
  }
  if (files.vocabFrom !== undefined) {
    dataset.vocab = { ...((dataset.vocab as object | undefined) ?? {}), from: files.vocabFrom };
  }
  raw.dataset = dataset;
  raw.trainer = { ...((raw.trainer as object | undefined) ?? {}), output_dir: files.outputDir };
  if (files.softLabels) raw.soft_labels = files.softLabels;
  else delete raw.soft_labels;
  const config = parseConfig(raw, source.source, source.baseDir);
  if (!(DISTILLABLE_TASKS as readonly string[]).includes(config.task)) {
    throw new UserError(
      `${source.source}: task: data distillation supports ${DISTILLABLE_TASKS.join(' and ')}, not ${config.task}`,
    );
  }
  return config;
}

/**
 * Trains to the end, continuing an earlier run when `resume` (else clearing what an earlier run with
 * other settings left). Returns the best model directory; throws Interrupted when the trainer
 * stopped early (Ctrl-C), leaving a checkpoint to continue from.
 */
export async function trainToEnd(
  step: string,
  config: TrainConfig,
  resume: boolean,
  opts: Pick<TrainOptions, 'quiet' | 'log' | 'signal' | 'onEvent'> & { threads?: number },
): Promise<{ modelDir: string; summary: TrainSummary }> {
  const out = config.trainer.output_dir;
  // The thread count is not part of a step's fingerprint: it changes how fast, not what is trained.
  if (opts.threads) config = { ...config, trainer: { ...config.trainer, threads: opts.threads } };
  if (!resume) removeDir(out, TRAINING_RUN);
  const canResume = resume && latestCheckpoint(out) !== null;
  const summary = await train(config, {
    resume: canResume,
    quiet: opts.quiet,
    log: opts.log,
    signal: opts.signal,
    onEvent: opts.onEvent,
  });
  if (!trainingFinished(out)) throw new Interrupted(step);
  return { modelDir: path.join(out, 'best'), summary };
}

/** The trainer's final checkpoint is marked stopped; an interrupted run's newest one is not. */
export function trainingFinished(out: string): boolean {
  const newest = latestCheckpoint(out);
  if (newest === null || !existsSync(path.join(out, 'best'))) return false;
  const state = JSON.parse(readFileSync(path.join(newest, 'trainer_state.json'), 'utf8')) as {
    stopped?: boolean;
  };
  return state.stopped === true;
}
