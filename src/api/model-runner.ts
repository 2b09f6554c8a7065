/**
 * One way to run a model for the public API, whatever the directory holds: an exported directory runs in
 * onnxruntime (OnnxPredictor.predictExamples), a trained model directory in libtorch through its task — the
 * same two prediction paths `alembic predict` takes. Inputs go through the task's own reader (via a
 * temporary file) so tokenisation, pairs and raw-text splitting are exactly the CLI's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDeployManifest } from '../deploy/export/manifest.js';
import { restoreTask } from '../deploy/export/restore-task.js';
import type { AnyTask } from '../tasks/registry.js';
import { loadModelDir } from '../train/model-dir.js';
import { UserError } from '../util/errors.js';
import { hasNaN } from '../util/finite.js';

export interface ModelRunner {
  readonly task: AnyTask;
  /** The task name from the model's manifest, e.g. text_classification. */
  readonly taskName: string;
  /** 'onnx' for an exported directory, 'torch' for a trained model directory. */
  readonly backend: 'onnx' | 'torch';
  /** The task's examples for input records written as `fileName` (a .jsonl, .txt or .json file). */
  read(fileName: string, contents: string): Promise<unknown[]>;
  predict(examples: unknown[]): Promise<unknown[]>;
  dispose(): Promise<void>;
}

export interface OpenRunnerOptions {
  /** Intra-op threads for onnxruntime (default 1). */
  threads?: number;
}

export async function openModelRunner(dir: string, opts: OpenRunnerOptions = {}): Promise<ModelRunner> {
  const manifest = readDeployManifest(dir);
  if (manifest.onnx) {
    const { OnnxPredictor } = await import('../deploy/onnx-predictor.js');
    const task = restoreTask(manifest, dir);
    const predictor = await OnnxPredictor.open(dir, { threads: opts.threads });
    return runner(
      task,
      manifest.task,
      'onnx',
      (ex) => predictor.predictExamples(ex),
      () => predictor.close(),
    );
  }
  const m = loadModelDir(dir);
  return runner(
    m.task,
    m.manifest.task,
    'torch',
    async (examples) => {
      const preds = m.task.predict(
        m.model,
        examples.map((e) => m.task.encode(e)),
      );
      const bad = preds.findIndex((p) => hasNaN(p));
      if (bad >= 0)
        throw new UserError(`input ${bad + 1}: the model computed NaN for it; no prediction made`);
      return preds;
    },
    async () => m.model.dispose(),
  );
}

function runner(
  task: AnyTask,
  taskName: string,
  backend: 'onnx' | 'torch',
  predict: (examples: unknown[]) => Promise<unknown[]>,
  dispose: () => Promise<void>,
): ModelRunner {
  let disposed = false;
  return {
    task,
    taskName,
    backend,
    async read(fileName, contents) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'alembic-api-'));
      try {
        const file = path.join(dir, fileName);
        writeFileSync(file, contents);
        return await task.read(file, { labelled: false });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    predict(examples) {
      if (disposed) return Promise.reject(new UserError('this pipeline was disposed'));
      return examples.length === 0 ? Promise.resolve([]) : predict(examples);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await dispose();
    },
  };
}
