import { UserError } from '../util/errors.js';
import { hasNaN } from '../util/finite.js';
import type { Task } from './task.js';

/**
 * Predicts examples a batch at a time and writes the task's output: a line per example, or, for a task
 * whose output is one document for the whole input, that document once at the end. A prediction holding
 * NaN stops the command: the user never receives one.
 */
export async function writePredictions<Example, Prediction>(
  task: Pick<Task<Example, unknown, Prediction>, 'formatPrediction' | 'formatAll'>,
  examples: Example[],
  batchSize: number,
  predict: (chunk: Example[]) => Prediction[] | Promise<Prediction[]>,
  write: (text: string) => void,
): Promise<void> {
  const all: Prediction[] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    const preds = await predict(chunk);
    const bad = preds.findIndex((p) => hasNaN(p));
    if (bad >= 0) {
      throw new UserError(
        `input ${i + bad + 1}: the model computed NaN for it (its weights or the input's numeric values are ` +
          `out of range); no prediction written for it or after it`,
      );
    }
    if (task.formatAll) all.push(...preds);
    else write(chunk.map((e, k) => task.formatPrediction(e, preds[k])).join('\n') + '\n');
  }
  if (task.formatAll) write(task.formatAll(examples, all) + '\n');
}
