/**
 * `alembic init-config`: writes the starting config of src/config/config-template.ts for a task and net, to stdout
 * or a file (never over an existing one without --force).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { NETS, TASKS, type TaskName } from '../config/run-config.js';
import { didYouMean } from '../util/did-you-mean.js';
import { UserError } from '../util/errors.js';
import { startingConfig } from '../config/config-template.js';
import { runCommand } from './run.js';

interface InitFlags {
  task: string;
  net: string;
  output?: string;
  force?: boolean;
  pretrainedDir?: string;
  objective?: 'causal' | 'masked';
}

export function registerInitConfig(program: Command): void {
  program
    .command('init-config')
    .description('write a commented starting config that trains as written on data of the documented format')
    .requiredOption('-t, --task <task>', TASKS.join(' | '))
    .requiredOption('-n, --net <net>', NETS.join(' | '))
    .option(
      '--pretrained-dir <dir>',
      'a BERT/ERNIE checkpoint to fine-tune (transformer; else trained from scratch)',
    )
    .addOption(
      new Option(
        '--objective <objective>',
        'language_model: causal (next token) or masked (for alembic pretrain)',
      ).choices(['causal', 'masked']),
    )
    .option('-o, --output <file>', 'where to write it (default: stdout)')
    .option('--force', 'overwrite an existing file')
    .action((opts: InitFlags) =>
      runCommand(() => {
        if (!(TASKS as readonly string[]).includes(opts.task))
          throw new UserError(
            `--task: unknown task "${opts.task}"${didYouMean(opts.task, TASKS)} (${TASKS.join(', ')})`,
          );
        if (!(NETS as readonly string[]).includes(opts.net))
          throw new UserError(
            `--net: unknown net "${opts.net}"${didYouMean(opts.net, NETS)} (${NETS.join(', ')})`,
          );
        const config = startingConfig(opts.task as TaskName, opts.net, {
          pretrainedDir: opts.pretrainedDir,
          objective: opts.objective,
        });
        const text = JSON.stringify(config, null, 2) + '\n';
        if (!opts.output) return void process.stdout.write(text);
        if (existsSync(opts.output) && !opts.force)
          throw new UserError(`${opts.output}: exists (use --force to overwrite)`);
        writeFileSync(opts.output, text);
        process.stderr.write(`wrote ${opts.output}\n`);
      })(),
    );
}
