/**
 * Task name → task implementation. Each task family registers here; the trainer, the CLI and
 * deployment only ever see the Task interface.
 */
import type { TrainConfig } from '../train/config.js';
import { UserError } from '../util/errors.js';
import { ClassificationTask, type ClassificationState } from './classification.js';
import type { Task } from './task.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTask = Task<any, any, any>;

/** A fresh task (to fit on training data), or one restored from a model directory's saved state. */
export function createTask(config: TrainConfig, saved?: { dir: string; state: unknown }): AnyTask {
  switch (config.task) {
    case 'text_classification':
    case 'text_pair_classification':
    case 'multi_label_classification':
      return new ClassificationTask(config, saved as { dir: string; state: ClassificationState } | undefined);
    default:
      throw new UserError(`task "${config.task}" is not implemented yet in this version of alembic`);
  }
}
