/**
 * What a task family's ONNX runtime is: it feeds the exported graph and reads its outputs as the task's
 * predictions. Apart from the registry in runtimes.ts so the per-task runtimes import it without a circle.
 */
import type { RunOutput, TensorValue } from '../onnx/index.js';
import type { PredictInput, PredictOutput } from '../predictor.js';

/** One call of the graph; with `outputs`, only those are computed and copied out. */
export type RunGraph = (
  feeds: Record<string, TensorValue>,
  outputs?: readonly string[],
) => Promise<Record<string, RunOutput>>;

export interface TaskRuntime<Example = unknown, Prediction = unknown> {
  readonly task: string;
  /** Label (or tag) names in id order. */
  readonly labels: readonly string[];
  /**
   * The task's predictions for examples shaped as its reader returns them (so `formatPrediction` prints
   * them as for a libtorch model). Tokenises, pads, calls `run` once or more (tasks that cut long texts into
   * windows call it per batch of windows), and decodes.
   */
  predict(examples: Example[], run: RunGraph): Promise<Prediction[]>;
  /** The Predictor interface's input as an example of this task. */
  fromInput(input: PredictInput): Example;
  /** A prediction as the Predictor interface's output. */
  toOutput(prediction: Prediction): PredictOutput;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRuntime = TaskRuntime<any, any>;
