import type { Command } from 'commander';
import { loadConfig } from '../config/run-config.js';
import { isMainRank } from '../train/data-parallel.js';
import { pretrainMaskedLm } from '../train/pretrain.js';
import { overridesOf, withTrainingFlags, type TrainingFlags } from './config-flags.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { runCommand } from './run.js';

export function registerPretrain(program: Command): void {
  withTrainingFlags(
    addLaunchFlags(program.command('pretrain'))
      .description(
        'masked-LM pre-training of the Transformer encoder on unlabelled text (one text per line); ' +
          'trainer.output_dir becomes a pretrained_dir for fine-tuning and distillation',
      )
      .requiredOption('-c, --config <file>', 'a language_model config with model.net "transformer"'),
    'trainer.output_dir/training',
  ).action((opts: TrainingFlags & LaunchFlags) =>
    runCommand(async () => {
      const config = loadConfig(opts.config, overridesOf(opts, 'trainer.threads'));
      await launchOrRun(opts, async () => {
        const summary = await pretrainMaskedLm(config, { resume: opts.resume, quiet: opts.quiet });
        if (isMainRank()) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      });
    })(),
  );
}
