/**
 * Task name → task implementation. Each task family registers here; the trainer, the CLI and
 * deployment only ever see the Task interface. Layers above tasks (distillation) add variants with
 * registerTaskVariant instead of this file importing them, so imports keep pointing down.
 */
import { noteCheckpointShape, withCheckpointShape } from '../nets/build.js';
import type { TrainConfig } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { ClassificationTask, type ClassificationState } from './classification.js';
import { MatchingTask, type MatchingState } from './matching.js';
import { ReadingComprehensionTask, type ReadingComprehensionState } from './reading-comprehension.js';
import { SequenceLabelingTask, type SequenceLabelingState } from './sequence-labeling.js';
import { GenerationTask, type GenerationState } from './generation.js';
import { CausalLmTask } from './language-model.js';
import { MaskedLmTask } from './masked-lm.js';
import type { Task } from './task.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTask = Task<any, any, any>;

/** A model directory's saved task state, to restore a task from. */
export interface SavedTask {
  dir: string;
  state: unknown;
}

/** Returns a task that replaces the registry's own for this config, or undefined to pass. */
export type TaskVariant = (config: TrainConfig, saved?: SavedTask) => AnyTask | undefined;

const variants: TaskVariant[] = [];

/** Adds a variant (idempotent); variants are asked in registration order before the task families. */
export function registerTaskVariant(variant: TaskVariant): void {
  if (!variants.includes(variant)) variants.push(variant);
}

/** A fresh task (to fit on training data), or one restored from a model directory's saved state. */
export function createTask(given: TrainConfig, saved?: SavedTask): AnyTask {
  const config = { ...given, model: withCheckpointShape(given.model) };
  if (saved === undefined) noteCheckpointShape(given.model, config.model);
  for (const variant of variants) {
    const task = variant(config, saved);
    if (task !== undefined) return task;
  }
  // Training on a teacher's probabilities is distillation's variant; never silently train without them.
  if (config.soft_labels !== undefined && saved === undefined) {
    throw new UserError('soft_labels: soft-label training is not loaded (import distill/data/soft-label-task)');
  }
  switch (config.task) {
    case 'text_classification':
    case 'text_pair_classification':
    case 'multi_label_classification':
      return new ClassificationTask(config, saved as { dir: string; state: ClassificationState } | undefined);
    case 'text_matching':
      return new MatchingTask(config, saved as { dir: string; state: MatchingState } | undefined);
    case 'reading_comprehension':
      return new ReadingComprehensionTask(
        config,
        saved as { dir: string; state: ReadingComprehensionState } | undefined,
      );
    case 'sequence_labeling':
      return new SequenceLabelingTask(
        config,
        saved as { dir: string; state: SequenceLabelingState } | undefined,
      );
    case 'text_generation':
      return new GenerationTask(config, saved as { dir: string; state: GenerationState } | undefined);
    case 'language_model':
      return config.language_model?.objective === 'masked'
        ? new MaskedLmTask(config, saved)
        : new CausalLmTask(config, saved);
    default:
      throw new UserError(`task "${config.task}" is not implemented yet in this version of alembic`);
  }
}
