/**
 * Predicts examples a batch at a time and writes the task's output as TSV (a header line naming the
 * columns, then a line per example), JSON (one array) or JSON lines — or, for a task whose output is one
 * document for the whole input, that document once at the end. A prediction holding NaN stops the
 * command: the user never receives one.
 */
import { UserError } from '../util/errors.js';
import { hasNaN } from '../util/finite.js';
import type { Task } from './task.js';

export const PREDICTION_FORMATS = ['tsv', 'json', 'jsonl'] as const;
export type PredictionFormat = (typeof PREDICTION_FORMATS)[number];

type Writer<Example, Prediction> = Pick<
  Task<Example, unknown, Prediction>,
  'formatPrediction' | 'formatAll' | 'predictionColumns' | 'predictionRecord'
>;

export async function writePredictions<Example, Prediction>(
  task: Writer<Example, Prediction>,
  examples: Example[],
  batchSize: number,
  predict: (chunk: Example[]) => Prediction[] | Promise<Prediction[]>,
  write: (text: string) => void,
  format: PredictionFormat = 'tsv',
): Promise<void> {
  const record = (e: Example, p: Prediction) =>
    task.predictionRecord?.(e, p) ?? { ...(e as object), ...(p as object) };
  const oneDocument = task.formatAll !== undefined && format === 'tsv';
  const all: Prediction[] = [];
  if (format === 'tsv' && !oneDocument && examples.length && task.predictionColumns)
    write(task.predictionColumns(examples[0]).join('\t') + '\n');
  if (format === 'json') write('[');
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
    if (oneDocument) all.push(...preds);
    else if (format === 'tsv')
      write(chunk.map((e, k) => task.formatPrediction(e, preds[k])).join('\n') + '\n');
    else {
      const lines = chunk.map((e, k) => JSON.stringify(record(e, preds[k])));
      write(format === 'json' ? (i ? ',\n' : '\n') + lines.join(',\n') : lines.join('\n') + '\n');
    }
  }
  if (format === 'json') write('\n]\n');
  if (oneDocument) write(task.formatAll!(examples, all) + '\n');
}
