import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { loadModelDir } from '../train/model-dir.js';
import { positiveInt, runCommand } from './run.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict with a trained model: one input per line from --input or stdin')
    .requiredOption('-m, --model <dir>', 'a model directory')
    .option('-i, --input <file>', 'input file in the task format without labels (default: stdin)')
    .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 64)
    .action((opts: { model: string; input?: string; batchSize: number }) =>
      runCommand(async () => {
        const m = loadModelDir(opts.model);
        const { file, cleanup } = opts.input ? { file: opts.input, cleanup: () => {} } : await stdinToFile();
        try {
          const examples = await m.task.read(file, { labelled: false });
          for (let i = 0; i < examples.length; i += opts.batchSize) {
            const chunk = examples.slice(i, i + opts.batchSize);
            const preds = m.task.predict(
              m.model,
              chunk.map((e) => m.task.encode(e)),
            );
            process.stdout.write(chunk.map((e, k) => m.task.formatPrediction(e, preds[k])).join('\n') + '\n');
          }
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
