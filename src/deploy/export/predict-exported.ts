/**
 * `alembic predict` on an exported directory: the task reads and formats as usual (its reader and
 * formatPrediction), and OnnxPredictor computes the predictions instead of libtorch.
 */
import { writePredictions, type PredictionFormat } from '../../tasks/write-predictions.js';
import { inputFile } from '../../util/input-file.js';
import { OnnxPredictor } from '../onnx-predictor.js';
import { readDeployManifest } from './manifest.js';
import { restoreTask } from './restore-task.js';

/** Whether `dir` is an exported directory (its manifest has an `onnx` section). */
export function isExportedDir(dir: string): boolean {
  return readDeployManifest(dir).onnx !== undefined;
}

/** Predicts every example of `input` (stdin when undefined) and writes the task's output lines. */
export async function predictExported(
  dir: string,
  input: string | undefined,
  batchSize: number,
  write: (text: string) => void = (t) => process.stdout.write(t),
  opts: { format?: PredictionFormat; threads?: number } = {},
): Promise<void> {
  const manifest = readDeployManifest(dir);
  const task = restoreTask(manifest, dir);
  // The model is opened before stdin is copied to a temporary file, so a broken model leaves nothing behind.
  const predictor = await OnnxPredictor.open(dir, { threads: opts.threads });
  try {
    const { file, cleanup } = await inputFile(input, 'alembic-predict-');
    try {
      const examples = await task.read(file, { labelled: false });
      await writePredictions(
        task,
        examples,
        batchSize,
        (chunk) => predictor.predictExamples(chunk),
        write,
        opts.format,
      );
    } finally {
      cleanup();
    }
  } finally {
    await predictor.close();
  }
}
