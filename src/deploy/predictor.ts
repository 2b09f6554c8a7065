/**
 * What a deployed model offers the service, the benchmark and the browser page, whatever runs it
 * (libtorch through a model directory, or ONNX Runtime through an exported directory).
 */
export interface PredictInput {
  text: string;
  /** Second text, for pair tasks (text-pair classification, matching). */
  textB?: string;
}

export interface PredictOutput {
  /** Predicted label names (one for single-label tasks, any number for multi-label). */
  labels: string[];
  /** One probability per label of the model, in label-map order. */
  probabilities: number[];
  /** Sequence labelling: the predicted chunks, with character offsets into the input text. */
  entities?: PredictedEntity[];
}

/** A chunk a tagger found, as Hugging Face's token-classification pipeline reports it. */
export interface PredictedEntity {
  type: string;
  word: string;
  /** Character offsets into the input text, end exclusive. */
  start: number;
  end: number;
  /** Mean probability of the chosen tags over the chunk's tokens (softmax of the emissions). */
  score: number;
}

export interface Predictor {
  /** The task name from the model's manifest, e.g. text_classification. */
  readonly task: string;
  /** The model's label names in id order. */
  readonly labels: readonly string[];
  predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]>;
  close(): Promise<void>;
}
