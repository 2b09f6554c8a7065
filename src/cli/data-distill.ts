/**
 * `alembic data-distill --config F`: the data-distillation pipeline (guide §6.3): teacher → augment and
 * label → students → report. Every step is resumable: after Ctrl-C (or a crash), the same command
 * continues where it stopped, and finished steps are not redone. With `--nproc N` (or torchrun's
 * environment) the teacher's labelling is split across N workers; rank 0 runs every other step.
 */
import type { Command } from 'commander';
import { dataDistill } from '../api/verbs.js';
import { loadDataDistillConfig } from '../distill/data/data-distill-config.js';
import { formatReport } from '../distill/data/data-distill-report.js';
import { overridesOf, setOption, threadsOption, type ConfigFlags } from './config-flags.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { runCommand } from './run.js';
import { workerRank } from '../util/worker-rank.js';

export function registerDataDistill(program: Command): void {
  const command = program
    .command('data-distill')
    .description(
      'data distillation: fine-tune a teacher, label augmented/unlabelled text, train small students',
    )
    .requiredOption('-c, --config <file>', 'the pipeline config (see examples/data-distill/)')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the report as JSON instead of a table')
    .option(...setOption())
    .option(...threadsOption('threads for labelling and for training the teacher and the students'));
  addLaunchFlags(command).action(
    (opts: ConfigFlags & LaunchFlags & { config: string; quiet?: boolean; json?: boolean }) =>
      runCommand(() =>
        launchOrRun(opts, async () => {
          const config = loadDataDistillConfig(opts.config, overridesOf(opts, 'labelling.threads'));
          // The first Ctrl-C stops cleanly: labelling after its batch, training at its step (the trainer
          // listens too), anything else at the next step boundary. A second one quits at once; every
          // file is written so that a rerun still continues correctly.
          const stop = new AbortController();
          const onSignal = () => {
            if (stop.signal.aborted) process.exit(130);
            process.stderr.write('alembic: stopping at the next safe point (Ctrl-C again to quit now)\n');
            stop.abort();
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
          try {
            const report = await dataDistill(config, {
              verbose: !opts.quiet,
              log: (line) => process.stderr.write(line + '\n'),
              signal: stop.signal,
              threads: opts.threads,
            });
            // Every rank ends with the report; rank 0 alone prints it.
            if (workerRank().rank === 0)
              process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
          } finally {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
          }
        }),
      )(),
  );
}
