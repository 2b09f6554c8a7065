import type { Command } from 'commander';
import { train } from '../api/verbs.js';
import { loadConfig } from '../config/run-config.js';
import { overridesOf, withTrainingFlags, type TrainingFlags } from './config-flags.js';
import { runCommand } from './run.js';

export function registerTrain(program: Command): void {
  withTrainingFlags(
    program
      .command('train')
      .description('train a model from a JSON config (no code)')
      .requiredOption('-c, --config <file>', 'the training config (see `alembic init-config`)'),
  ).action((opts: TrainingFlags) =>
    runCommand(async () => {
      const config = loadConfig(opts.config, overridesOf(opts, 'trainer.threads'));
      const summary = await train(config, {
        resume: opts.resume,
        verbose: !opts.quiet,
        log: (line) => process.stderr.write(line + '\n'),
      });
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    })(),
  );
}
