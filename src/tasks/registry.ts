/**
 * Task name → task implementation. Each task family registers here; the trainer, the CLI and
 * deployment only ever see the Task interface.
 */
import { noteCheckpointShape, withCheckpointShape } from '../nets/build.js';
import type { TrainConfig } from '../train/config.js';
import { UserError } from '../util/errors.js';
import { ClassificationTask, type ClassificationState } from './classification.js';
import { SoftLabelClassificationTask } from '../distill/data/soft-label-task.js';
import { MatchingTask, type MatchingState } from './matching.js';
import { ReadingComprehensionTask, type ReadingComprehensionState } from './reading-comprehension.js';
import { SequenceLabelingTask, type SequenceLabelingState } from './sequence-labeling.js';
import { GenerationTask, type GenerationState } from './generation.js';
import { CausalLmTask } from './language-model.js';
import { MaskedLmTask } from './masked-lm.js';
import type { Task } from './task.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTask = Task<any, any, any>;

/** A fresh task (to fit on training data), or one restored from a model directory's saved state. */
export function createTask(given: TrainConfig, saved?: { dir: string; state: unknown }): AnyTask {
  const config = { ...given, model: withCheckpointShape(given.model) };
  if (saved === undefined) noteCheckpointShape(given.model, config.model);
  // Training on a teacher's probabilities (data distillation); the saved model is a plain classifier.
  if (config.soft_labels !== undefined && saved === undefined) return new SoftLabelClassificationTask(config);
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
