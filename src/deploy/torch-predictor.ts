/**
 * Predictor over a trained model directory, run by libtorch: the reference the ONNX export is checked and
 * benchmarked against. Inputs go through the task's own encode/predict, exactly as `alembic predict` does.
 */
import { loadModelDir, type LoadedModel } from '../train/model-dir.js';
import { setNumThreads } from '../engine/runtime.js';
import { UserError } from '../util/errors.js';
import type { PredictInput, PredictOutput, Predictor } from './predictor.js';

export interface TorchPredictorOptions {
  /** libtorch intra-op threads (process-wide); left as is when absent. */
  threads?: number;
}

export class TorchPredictor implements Predictor {
  readonly task: string;
  readonly labels: readonly string[];

  private constructor(readonly loaded: LoadedModel) {
    this.task = loaded.manifest.task;
    const state = loaded.manifest.state as { labels?: string[] } | undefined;
    if (!Array.isArray(state?.labels)) {
      throw new UserError(
        `${loaded.dir}: task ${this.task} has no label list; a Predictor serves labelled tasks`,
      );
    }
    this.labels = state.labels;
  }

  static open(dir: string, opts: TorchPredictorOptions = {}): TorchPredictor {
    if (opts.threads !== undefined) setNumThreads(opts.threads);
    return new TorchPredictor(loadModelDir(dir));
  }

  async predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]> {
    if (inputs.length === 0) return [];
    const { task, model } = this.loaded;
    // The example shape classification tasks read: text, optional textB and numeric features.
    const features = inputs.map((x) => task.encode({ ...x }));
    const preds = task.predict(model, features) as PredictOutput[];
    return preds.map((p) => ({ labels: p.labels, probabilities: p.probabilities }));
  }

  async close(): Promise<void> {
    // The model's tensors belong to the process's libtorch; nothing to release per predictor.
  }
}
