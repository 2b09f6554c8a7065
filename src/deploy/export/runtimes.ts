/**
 * Task name → how to feed its exported graph and turn the outputs into the task's predictions (the serving
 * half of exporter.ts; it needs no libtorch). A task family that adds an exporter adds its runtime here.
 */
import { UserError } from '../../util/errors.js';
import type { RunOutput, TensorValue } from '../onnx/index.js';
import type { PredictInput, PredictOutput } from '../predictor.js';
import { classificationRuntime } from './classification-io.js';
import type { DeployManifest } from './manifest.js';

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

type MakeRuntime = (manifest: DeployManifest, dir: string) => AnyRuntime;

/**
 * Loaded on demand: classification's runtime needs only onnxruntime; the others reuse their task's encoding
 * and decoding and so load libtorch (restore-task.ts), which a classifier's server should not pay for.
 */
const RUNTIMES: Record<string, () => Promise<MakeRuntime>> = {
  text_classification: async () => classificationRuntime,
  text_pair_classification: async () => classificationRuntime,
  multi_label_classification: async () => classificationRuntime,
  sequence_labeling: async () => (await import('./sequence-labeling-io.js')).sequenceLabelingRuntime,
  text_matching: async () => (await import('./matching-io.js')).matchingRuntime,
  reading_comprehension: async () =>
    (await import('./reading-comprehension-io.js')).readingComprehensionRuntime,
};

export async function runtimeFor(manifest: DeployManifest, dir: string): Promise<AnyRuntime> {
  const load = RUNTIMES[manifest.task];
  if (!load) throw new UserError(`${dir}: no ONNX runtime for task "${manifest.task}"`);
  return (await load())(manifest, dir);
}
