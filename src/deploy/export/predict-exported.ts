/**
 * `alembic predict` on an exported directory: the task reads and formats as usual (its reader and
 * formatPrediction), and OnnxPredictor computes the predictions instead of libtorch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
): Promise<void> {
  const manifest = readDeployManifest(dir);
  const task = restoreTask(manifest, dir);
  const { file, cleanup } = input ? { file: input, cleanup: () => {} } : await stdinToFile();
  const predictor = await OnnxPredictor.open(dir);
  try {
    const examples = await task.read(file, { labelled: false });
    const all: unknown[] = [];
    for (let i = 0; i < examples.length; i += batchSize) {
      const chunk = examples.slice(i, i + batchSize);
      const preds = await predictor.predictExamples(chunk);
      if (task.formatAll) all.push(...preds);
      else write(chunk.map((e, k) => task.formatPrediction(e, preds[k])).join('\n') + '\n');
    }
    if (task.formatAll) write(task.formatAll(examples, all) + '\n');
  } finally {
    await predictor.close();
    cleanup();
  }
}

async function stdinToFile(): Promise<{ file: string; cleanup: () => void }> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alembic-predict-'));
  const file = path.join(dir, 'stdin');
  writeFileSync(file, Buffer.concat(chunks));
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
