import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { isExportedDir, predictExported } from '../deploy/export/predict-exported.js';
import { predictWithPipeline } from '../tasks/pipeline.js';
import { loadModelDir } from '../train/model-dir.js';
import { UserError } from '../util/errors.js';
import { positiveInt, runCommand } from './run.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict with a trained model: one input per line from --input or stdin')
    .option('-m, --model <dir>', 'a model directory')
    .option('--pipeline <file>', 'a pipeline.json chaining models (instead of --model); JSON lines out')
    .option('-i, --input <file>', 'input file in the task format without labels (default: stdin)')
    .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 64)
    .action((opts: { model?: string; pipeline?: string; input?: string; batchSize: number }) =>
      runCommand(async () => {
        if (opts.pipeline) {
          const input = opts.input ? { file: opts.input, cleanup: () => {} } : await stdinToFile();
          await predictWithPipeline(opts.pipeline, input.file, opts.batchSize).finally(input.cleanup);
          return;
        }
        if (!opts.model) throw new UserError('predict: give --model <dir> or --pipeline <file>');
        // An exported directory (alembic export) runs in onnxruntime.
        if (isExportedDir(opts.model)) return predictExported(opts.model, opts.input, opts.batchSize);
        const m = loadModelDir(opts.model);
        const { file, cleanup } = opts.input ? { file: opts.input, cleanup: () => {} } : await stdinToFile();
        try {
          const examples = await m.task.read(file, { labelled: false });
          const all: unknown[] = [];
          for (let i = 0; i < examples.length; i += opts.batchSize) {
            const chunk = examples.slice(i, i + opts.batchSize);
            const preds = m.task.predict(
              m.model,
              chunk.map((e) => m.task.encode(e)),
            );
            // A task whose output is one document for the whole file writes it once at the end.
            if (m.task.formatAll) all.push(...preds);
            else
              process.stdout.write(
                chunk.map((e, k) => m.task.formatPrediction(e, preds[k])).join('\n') + '\n',
              );
          }
          if (m.task.formatAll) process.stdout.write(m.task.formatAll(examples, all) + '\n');
        } finally {
          cleanup();
        }
      })(),
    );
}

async function stdinToFile(): Promise<{ file: string; cleanup: () => void }> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alembic-predict-'));
  const file = path.join(dir, 'stdin');
  writeFileSync(file, Buffer.concat(chunks));
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
