import type { Command } from 'commander';
import { evaluate } from '../api/verbs.js';
import { formatMetrics } from '../train/trainer.js';
import { setNumThreads } from '../engine/runtime.js';
import { threadsOption } from './config-flags.js';
import { runCommand } from './run.js';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a trained model on a labelled file')
    .requiredOption('-m, --model <dir>', 'a model directory (e.g. output_dir/best)')
    .requiredOption('-d, --data <file>', 'labelled data in the task format')
    .option('--batch-size <n>', 'batch size', '64')
    .option('--json', 'print the metrics as JSON')
    .option(...threadsOption())
    .action((opts: { model: string; data: string; batchSize: string; json?: boolean; threads?: number }) =>
      runCommand(async () => {
        if (opts.threads) setNumThreads(opts.threads);
        const r = await evaluate(opts.model, opts.data, { batchSize: Number(opts.batchSize) });
        process.stdout.write(
          opts.json ? JSON.stringify(r.metrics, null, 2) + '\n' : formatMetrics(r.metrics) + '\n',
        );
      })(),
    );
}
