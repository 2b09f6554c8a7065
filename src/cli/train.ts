import type { Command } from 'commander';
import { train } from '../api/verbs.js';
import { loadConfig } from '../config/run-config.js';
import { overridesOf, setOption, threadsOption, type ConfigFlags } from './config-flags.js';
import { isMainRank } from '../train/data-parallel.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { runCommand } from './run.js';

export function registerTrain(program: Command): void {
  addLaunchFlags(program.command('train'))
    .description('train a model from a JSON config (no code)')
    .requiredOption('-c, --config <file>', 'the training config (see `alembic init-config`)')
    .option('--resume', 'continue from the newest checkpoint in trainer.output_dir')
    .option('--quiet', 'no progress output')
    .option(...setOption())
    .option(...threadsOption())
    .action((opts: ConfigFlags & LaunchFlags & { config: string; resume?: boolean; quiet?: boolean }) =>
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
