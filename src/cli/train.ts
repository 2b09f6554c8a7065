import type { Command } from 'commander';
import { train } from '../api/verbs.js';
import { runCommand } from './run.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model from a JSON config (no code)')
    .requiredOption('-c, --config <file>', 'the training config (see `alembic init-config`)')
    .option('--resume', 'continue from the newest checkpoint in trainer.output_dir')
    .option('--quiet', 'no progress output')
    .action((opts: { config: string; resume?: boolean; quiet?: boolean }) =>
      runCommand(async () => {
        const summary = await train(opts.config, {
          resume: opts.resume,
          verbose: !opts.quiet,
          log: (line) => process.stderr.write(line + '\n'),
        });
        process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      })(),
    );
}
