/**
 * What the trainer needs from a task. A task turns examples into encoded features once, builds its
 * model (an encoder from nets/ plus the task's head), computes the loss of a batch, and evaluates and
 * predicts. Everything it must remember to predict later (labels, vocabulary, feature statistics) is
 * in `state()`, saved into the model directory.
 */
import type { Line } from '../data/line-reader.js';
import type { RecordPlace } from '../data/readers/types.js';
import type { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';

export interface EvalResult {
  /** Flat metric name → value (accuracy, macro_f1, loss, …), written to metrics.jsonl. */
  metrics: Record<string, number>;
  /** For the report: confusion matrix and per-label rows. */
  confusion?: { labels: string[]; matrix: number[][] };
  perLabel?: { label: string; precision: number; recall: number; f1: number; support: number }[];
}

/**
 * What a model outputs for some examples, in the form evaluation scores: numbers per example, in order
 * (a row's length may differ between examples: a sentence's tags), and totals over the examples (a loss
 * sum and the tokens it is over). Outputs for consecutive parts of a set, rows concatenated and totals
 * added, are the outputs for the whole set.
 */
export interface EvalOutputs {
  rows: number[][];
  sums: number[];
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
  /**
   * `evaluate` in two halves, for tasks whose scores depend on the examples only through per-example
   * outputs: `evaluate` is `scoreOutputs(examples, features, evalOutputs(model, features, batchSize))`.
   * The outputs can then be computed in parts (each rank of a data-parallel group on its slice of the dev
   * set) and scored once over the whole set, so F1, AUC and ranking metrics are exact. Tasks without them
   * are evaluated whole.
   */
  evalOutputs?(model: TaskModel<Features>, features: Features[], batchSize: number): EvalOutputs;
  scoreOutputs?(examples: Example[], features: Features[], outputs: EvalOutputs): EvalResult;
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
  /**
   * How to train from a streamed file (a file too large to read into memory), or, when the task and its
   * settings need the whole file in memory, why (one line, for the console and for `streaming: true`).
   */
  streaming?(): StreamingSupport<Example> | string;
}

/** What a task provides to be trained from a streamed training file. */
export interface StreamingSupport<Example> {
  /** Reads `file` as `read` does (same checks, same bad-line policy), handing each example over. */
  readEach(file: string, onExample: (example: Example, place: RecordPlace) => void): Promise<void>;
  /** The parser `read` applies to the records of `file` after its first line `first`. */
  lineParser(file: string, first: Line): Promise<(line: Line) => Example>;
  /**
   * `fit`, one example at a time: `finish` leaves the task as `fit` over the same examples, in the same
   * order, would. With `vocabFromOtherFile` the vocabulary is counted on the examples given to `vocab`
   * (dataset.vocab.from, all of them before the first training example), as `fit`'s vocabSource.
   */
  fitter(vocabFromOtherFile: boolean): StreamingFitter<Example>;
  /**
   * What a fit holds besides `save` and `state` (statistics a model directory does not keep, such as the
   * output layer's start), as JSON, kept with the index and handed back to `restore` as `extra`.
   */
  fitExtra?(): unknown;
  /** Takes back a fit saved by `save`, `state` and `fitExtra` (a data file indexed before), instead of fitting. */
  restore(saved: { dir: string; state: unknown; extra?: unknown }): void;
}

export interface StreamingFitter<Example> {
  vocab(example: Example): void;
  add(example: Example): void;
  finish(): void;
}

export interface TaskModel<Features> extends Module {
  /** The mean loss of a batch (autograd on). */
  loss(batch: Features[]): Tensor;
  /**
   * What `loss` is a mean over when not the batch's examples (its target tokens, for a loss per token):
   * data-parallel ranks weigh their slices of a global batch by it, so the mean over the ranks is the
   * global batch's own.
   */
  lossUnits?(batch: Features[]): number;
}
