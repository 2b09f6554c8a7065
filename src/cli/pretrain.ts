import type { Command } from 'commander';
import { loadConfig } from '../config/run-config.js';
import { pretrainMaskedLm } from '../train/pretrain.js';
import { overridesOf, withTrainingFlags, type TrainingFlags } from './config-flags.js';
import { runCommand } from './run.js';

export function registerPretrain(program: Command): void {
  withTrainingFlags(
    program
      .command('pretrain')
      .description(
        'masked-LM pre-training of the Transformer encoder on unlabelled text (one text per line); ' +
          'trainer.output_dir becomes a pretrained_dir for fine-tuning and distillation',
      )
      .requiredOption('-c, --config <file>', 'a language_model config with model.net "transformer"'),
    'trainer.output_dir/training',
  ).action((opts: TrainingFlags) =>
    runCommand(async () => {
      const summary = await pretrainMaskedLm(loadConfig(opts.config, overridesOf(opts, 'trainer.threads')), {
        resume: opts.resume,
        quiet: opts.quiet,
      });
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    })(),
  );
}
