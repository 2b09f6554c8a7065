import type { Command } from 'commander';
import { train } from '../api/verbs.js';
import { loadConfig } from '../config/run-config.js';
import { isMainRank } from '../train/data-parallel.js';
import { overridesOf, withTrainingFlags, type TrainingFlags } from './config-flags.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { runCommand } from './run.js';

export function registerTrain(program: Command): void {
  withTrainingFlags(
    addLaunchFlags(program.command('train'))
      .description('train a model from a JSON config (no code)')
      .requiredOption('-c, --config <file>', 'the training config (see `alembic init-config`)'),
  ).action((opts: TrainingFlags & LaunchFlags) =>
    runCommand(async () => {
      const config = loadConfig(opts.config, overridesOf(opts, 'trainer.threads'));
      await launchOrRun(opts, async () => {
        const summary = await train(config, {
          resume: opts.resume,
          verbose: !opts.quiet,
          log: (line) => process.stderr.write(line + '\n'),
        });
        if (isMainRank()) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      });
    })(),
  );
}
