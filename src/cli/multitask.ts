import type { Command } from 'commander';
import { loadMultitaskConfig, trainMultitask } from '../train/multitask-training.js';
import { overridesOf, setOption, threadsOption, type ConfigFlags } from './config-flags.js';
import { isMainRank } from '../train/data-parallel.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { runCommand } from './run.js';

export function registerMultitask(program: Command): void {
  addLaunchFlags(program.command('multitask'))
    .description(
      'train one shared encoder with a head per task (classification, sequence labelling); ' +
        'writes a standalone model directory per task under trainer.output_dir/best/',
    )
    .requiredOption(
      '-c, --config <file>',
      'a multi-task config: shared dataset/model/trainer sections and a "tasks" list',
    )
    .option(...setOption())
    .option(...threadsOption())
    .action((opts: ConfigFlags & LaunchFlags & { config: string }) =>
      runCommand(async () => {
        const config = loadMultitaskConfig(opts.config, overridesOf(opts, 'trainer.threads'));
        await launchOrRun(opts, async () => {
          const summary = await trainMultitask(config);
          if (isMainRank()) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        });
      })(),
    );
}
