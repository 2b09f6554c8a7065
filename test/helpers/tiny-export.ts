/**
 * A small BOW sentiment classifier trained on tiny-data.ts and exported to ONNX, for tests that need a
 * real model behind the service (the CLI, onnxruntime and libtorch predictors).
 */
import path from 'node:path';
import { exportModelDir } from '../../src/deploy/export/export-dir.js';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { tempDir, writeSentimentSplits } from './tiny-data.js';

export interface TinyBowOptions {
  examples: number;
  epochs: number;
  width: number;
  maxLen: number;
  /** Test-split examples written beside the training data (default 1). */
  testExamples?: number;
}

/**
 * Trains in a fresh temp directory; returns it, the data files written there, and the trained (libtorch) and
 * exported (ONNX) directories.
 */
export async function trainTinyBow(o: TinyBowOptions): Promise<{
  dir: string;
  files: ReturnType<typeof writeSentimentSplits>;
  modelDir: string;
  exportDir: string;
}> {
  const dir = tempDir('alembic-tiny-bow-');
  const test = o.testExamples ?? 1;
  const files = writeSentimentSplits(dir, { train: o.examples, dev: Math.ceil(o.examples / 10), test });
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, max_len: o.maxLen },
      model: { net: 'bow', embedding_dim: o.width, hidden_size: o.width },
      trainer: {
        epochs: o.epochs,
        batch_size: 16,
        learning_rate: 0.01,
        eval_step: 1000,
        save_model_step: 1000,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
  await train(config, { quiet: true, log: () => {} });
  const modelDir = path.join(dir, 'run', 'best');
  const exportDir = path.join(dir, 'export');
  await exportModelDir(modelDir, exportDir);
  return { dir, files, modelDir, exportDir };
}
