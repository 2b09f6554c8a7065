/**
 * What the trainer needs from a task. A task turns examples into encoded features once, builds its
 * model (an encoder from nets/ plus the task's head), computes the loss of a batch, and evaluates and
 * predicts. Everything it must remember to predict later (labels, vocabulary, feature statistics) is
 * in `state()`, saved into the model directory.
 */
import type { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';

export interface EvalResult {
  /** Flat metric name → value (accuracy, macro_f1, loss, …), written to metrics.jsonl. */
  metrics: Record<string, number>;
  /** For the report: confusion matrix and per-label rows. */
  confusion?: { labels: string[]; matrix: number[][] };
  perLabel?: { label: string; precision: number; recall: number; f1: number; support: number }[];
}

export interface Task<Example, Features, Prediction> {
  readonly name: string;
  /** The metric early stopping and best-model selection use by default, and whether higher is better. */
  readonly defaultMetric: string;
  read(file: string, opts: { labelled: boolean; skipBadLines?: boolean }): Promise<Example[]>;
  /**
   * Learns vocabulary, labels and statistics from the training examples; the vocabulary is counted on
   * `vocabSource` (dataset.vocab.from) when given.
   */
  fit(train: Example[], vocabSource?: Example[]): void;
  encode(example: Example): Features;
  buildModel(): TaskModel<Features>;
  predict(model: TaskModel<Features>, features: Features[]): Prediction[];
  evaluate(
    model: TaskModel<Features>,
    examples: Example[],
    features: Features[],
    batchSize: number,
  ): EvalResult;
  /** One output line per example: `text<TAB>label<TAB>probabilities` for classification. */
  formatPrediction(example: Example, prediction: Prediction): string;
  /** For outputs that are one document for the whole input (reading comprehension's `{id: answer}`). */
  formatAll?(examples: Example[], predictions: Prediction[]): string;
  /** Names of formatPrediction's columns, for the header line `predict` writes above them. */
  predictionColumns?(first: Example): string[];
  /** One prediction as a JSON record (`predict --format json|jsonl`); default: example and prediction fields. */
  predictionRecord?(example: Example, prediction: Prediction): Record<string, unknown>;
  state(): unknown;
  save(dir: string): void;
}

export interface TaskModel<Features> extends Module {
  /** The mean loss of a batch (autograd on). */
  loss(batch: Features[]): Tensor;
}
