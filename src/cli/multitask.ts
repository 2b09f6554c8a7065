import type { Command } from 'commander';
import { loadMultitaskConfig, trainMultitask } from '../train/multitask-training.js';
import { overridesOf, withTrainingFlags, type TrainingFlags } from './config-flags.js';
import { runCommand } from './run.js';

export function registerMultitask(program: Command): void {
  withTrainingFlags(
    program
      .command('multitask')
      .description(
        'train one shared encoder with a head per task (classification, sequence labelling); ' +
          'writes a standalone model directory per task under trainer.output_dir/best/',
      )
      .requiredOption(
        '-c, --config <file>',
        'a multi-task config: shared dataset/model/trainer sections and a "tasks" list',
      ),
  ).action((opts: TrainingFlags) =>
    runCommand(async () => {
      const config = loadMultitaskConfig(opts.config, overridesOf(opts, 'trainer.threads'));
      const summary = await trainMultitask(config, { resume: opts.resume, quiet: opts.quiet });
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    })(),
  );
}
