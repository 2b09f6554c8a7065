import type { Command } from 'commander';
import { distill } from '../api/verbs.js';
import { loadDistillConfig } from '../distill/model/model-distill-config.js';
import { overridesOf, setOption, threadsOption, type ConfigFlags } from './config-flags.js';
import { isMainRank } from '../train/data-parallel.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { runCommand } from './run.js';

export function registerDistill(program: Command): void {
  addLaunchFlags(program.command('distill'))
    .description(
      'distil a fine-tuned teacher into a small Transformer student (FT → GED → TD1 → TD2); ' +
        'finished stages are not run again, an interrupted one continues',
    )
    .requiredOption('-c, --config <file>', 'the distillation config (see examples/distill/)')
    .option('--quiet', 'no progress output')
    .option(...setOption())
    .option(...threadsOption())
    .action((opts: ConfigFlags & LaunchFlags & { config: string; quiet?: boolean }) =>
      runCommand(async () => {
        const config = loadDistillConfig(opts.config, overridesOf(opts, 'trainer.threads'));
        await launchOrRun(opts, async () => {
          const result = await distill(config, {
            verbose: !opts.quiet,
            log: (line) => process.stderr.write(line + '\n'),
          });
          if (!isMainRank()) return;
          process.stdout.write(
            JSON.stringify(
              {
                outputDir: result.outputDir,
                studentDir: result.studentDir,
                interrupted: result.interrupted,
                comparison: result.report?.comparison,
                stages: result.stages.map(({ stage, steps, seconds, skipped }) => ({
                  stage,
                  steps,
                  seconds,
                  skipped,
                })),
              },
              null,
              2,
            ) + '\n',
          );
        });
      })(),
    );
}
