import type { Command } from 'commander';
import { loadConfig } from '../config/run-config.js';
// A training config may carry soft_labels (a teacher's probabilities): distillation's task variant.
import '../distill/data/soft-label-task.js';
import { train } from '../train/trainer.js';
import { overridesOf, setOption, threadsOption, type ConfigFlags } from './config-flags.js';
import { runCommand } from './run.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model from a JSON config (no code)')
    .requiredOption('-c, --config <file>', 'the training config (see `alembic init-config`)')
    .option('--resume', 'continue from the newest checkpoint in trainer.output_dir')
    .option('--quiet', 'no progress output')
    .option(...setOption())
    .option(...threadsOption())
    .action((opts: ConfigFlags & { config: string; resume?: boolean; quiet?: boolean }) =>
      runCommand(async () => {
        const config = loadConfig(opts.config, overridesOf(opts, 'trainer.threads'));
        const summary = await train(config, { resume: opts.resume, quiet: opts.quiet });
        process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      })(),
    );
}
