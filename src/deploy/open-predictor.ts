/**
 * Opens whichever predictor a directory calls for: an exported directory (its manifest has an `onnx`
 * section) runs in onnxruntime, a trained model directory in libtorch. libtorch is imported only in the
 * second case, so serving an exported model never loads it.
 */
import { readDeployManifest } from './export/manifest.js';
import { OnnxPredictor } from './onnx-predictor.js';
import type { Predictor } from './predictor.js';

export interface OpenPredictorOptions {
  /** Intra-op threads for onnxruntime or libtorch. */
  threads?: number;
}

export async function openPredictor(dir: string, opts: OpenPredictorOptions = {}): Promise<Predictor> {
  const manifest = readDeployManifest(dir);
  if (manifest.onnx) return OnnxPredictor.open(dir, { threads: opts.threads });
  const { TorchPredictor } = await import('./torch-predictor.js');
  return TorchPredictor.open(dir, { threads: opts.threads });
}
