/**
 * The deployment side of the report's speed: models are served through ONNX Runtime (src/deploy), so each
 * model directory is exported to fp32 ONNX and timed through the same OnnxPredictor a server uses,
 * tokenisation included. Per-call overhead differs a lot between libtorch and onnxruntime (a BOW's time
 * at batch 1 is mostly overhead), which is why the report shows both.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, readDeployManifest } from '../../deploy/export/manifest.js';
import { exportModelDir } from '../../deploy/export/export-dir.js';
import { OnnxPredictor } from '../../deploy/onnx-predictor.js';
import type { PredictInput, PredictOutput } from '../../deploy/predictor.js';
import { WEIGHTS_FILE } from '../../train/model-dir.js';

/**
 * The fp32 export of `modelDir` in `onnxDir`, exported now unless an export newer than the model is
 * there already (a rerun of the report does not export again). Returns whether it was reused.
 */
export async function ensureOnnxExport(modelDir: string, onnxDir: string): Promise<{ reused: boolean }> {
  if (exportIsFresh(modelDir, onnxDir)) return { reused: true };
  await exportModelDir(modelDir, onnxDir);
  return { reused: false };
}

/** An fp32 export whose manifest (written with the graph) is newer than the model's weights and manifest. */
export function exportIsFresh(modelDir: string, onnxDir: string): boolean {
  const exported = path.join(onnxDir, MANIFEST_FILE);
  if (!existsSync(exported)) return false;
  const onnx = readDeployManifest(onnxDir).onnx;
  if (!onnx || onnx.int8 || !existsSync(path.join(onnxDir, onnx.file))) return false;
  const model = Math.max(
    statSync(path.join(modelDir, WEIGHTS_FILE)).mtimeMs,
    statSync(path.join(modelDir, MANIFEST_FILE)).mtimeMs,
  );
  return statSync(exported).mtimeMs > model;
}

/** One-thread onnxruntime predictors of exported directories, closed together. */
export class OnnxPredictors {
  private constructor(readonly predictors: OnnxPredictor[]) {}

  static async open(dirs: string[]): Promise<OnnxPredictors> {
    const opened: OnnxPredictor[] = [];
    try {
      for (const dir of dirs) opened.push(await OnnxPredictor.open(dir, { threads: 1 }));
    } catch (e) {
      await Promise.all(opened.map((p) => p.close()));
      throw e;
    }
    return new OnnxPredictors(opened);
  }

  /** Batch-1 predict functions, in the order of the directories. */
  batchOne(): ((input: PredictInput) => Promise<PredictOutput[]>)[] {
    return this.predictors.map((p) => (input: PredictInput) => p.predictBatch([input]));
  }

  async close(): Promise<void> {
    await Promise.all(this.predictors.map((p) => p.close()));
  }
}
