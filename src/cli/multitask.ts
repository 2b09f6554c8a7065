import type { Command } from 'commander';
import { isMainRank } from '../train/data-parallel.js';
import { loadMultitaskConfig, trainMultitask } from '../train/multitask-training.js';
import { overridesOf, withTrainingFlags, type TrainingFlags } from './config-flags.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { runCommand } from './run.js';

export function registerMultitask(program: Command): void {
  withTrainingFlags(
    addLaunchFlags(program.command('multitask'))
      .description(
        'train one shared encoder with a head per task (classification, sequence labelling); ' +
          'writes a standalone model directory per task under trainer.output_dir/best/',
      )
      .requiredOption(
        '-c, --config <file>',
        'a multi-task config: shared dataset/model/trainer sections and a "tasks" list',
      ),
  ).action((opts: TrainingFlags & LaunchFlags) =>
    runCommand(async () => {
      const config = loadMultitaskConfig(opts.config, overridesOf(opts, 'trainer.threads'));
      await launchOrRun(opts, async () => {
        const summary = await trainMultitask(config, { resume: opts.resume, quiet: opts.quiet });
        if (isMainRank()) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      });
    })(),
  );
}
