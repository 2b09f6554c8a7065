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
}

export interface Predictor {
  /** The task name from the model's manifest, e.g. text_classification. */
  readonly task: string;
  /** The model's label names in id order. */
  readonly labels: readonly string[];
  predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]>;
  close(): Promise<void>;
}
