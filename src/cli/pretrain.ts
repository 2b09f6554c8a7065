import type { Command } from 'commander';
import { loadConfig } from '../config/run-config.js';
import { pretrainMaskedLm } from '../train/pretrain.js';
import { overridesOf, setOption, threadsOption, type ConfigFlags } from './config-flags.js';
import { isMainRank } from '../train/data-parallel.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { runCommand } from './run.js';

export function registerPretrain(program: Command): void {
  addLaunchFlags(program.command('pretrain'))
    .description(
      'masked-LM pre-training of the Transformer encoder on unlabelled text (one text per line); ' +
        'trainer.output_dir becomes a pretrained_dir for fine-tuning and distillation',
    )
    .requiredOption('-c, --config <file>', 'a language_model config with model.net "transformer"')
    .option('--resume', 'continue from the newest checkpoint in trainer.output_dir/training')
    .option('--quiet', 'no progress output')
    .option(...setOption())
    .option(...threadsOption())
    .action((opts: ConfigFlags & LaunchFlags & { config: string; resume?: boolean; quiet?: boolean }) =>
      runCommand(async () => {
        const config = loadConfig(opts.config, overridesOf(opts, 'trainer.threads'));
        await launchOrRun(opts, async () => {
          const summary = await pretrainMaskedLm(config, { resume: opts.resume, quiet: opts.quiet });
          if (isMainRank()) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        });
      })(),
    );
}
