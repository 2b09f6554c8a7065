/**
 * `alembic label`: a teacher model directory labels unlabelled text (a text per line, or
 * `text_a<TAB>text_b` pairs for a pair classifier) into `text<TAB>label[<TAB>p0 p1 …]` lines, the
 * file data distillation trains students on. Resumable: the same command continues after Ctrl-C or a
 * crash. Run as several workers (RANK/WORLD_SIZE from torchrun or a launcher), each labels a shard and
 * rank 0 merges them (several machines need a shared output folder); `--merge FILE` merges finished
 * shards by hand. The result is byte-for-byte the single-process file.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { mergeShards } from '../distill/data/label-shards.js';
import {
  labelWithTeacher,
  labellingFingerprint,
  teacherTextColumns,
} from '../distill/data/teacher-labelling.js';
import { Interrupted, UserError } from '../util/errors.js';
import { workerRank } from '../util/worker-rank.js';
import { threadsOption } from './config-flags.js';
import { addLaunchFlags, launchOrRun, type LaunchFlags } from './rank-launcher.js';
import { positiveInt, positiveNumber, runCommand } from './run.js';

interface LabelFlags extends LaunchFlags {
  model?: string;
  input?: string;
  output?: string;
  merge?: string;
  probabilities?: boolean;
  batchSize: number;
  syncEvery: number;
  stallTimeout: number;
  threads?: number;
  quiet?: boolean;
}

export function registerLabel(program: Command): void {
  const command = program
    .command('label')
    .description(
      'label unlabelled text with a teacher model (resumable; shards across RANK/WORLD_SIZE workers)',
    )
    .option('-m, --model <dir>', 'the teacher: a trained text or text-pair classification model directory')
    .option('-i, --input <file>', 'unlabelled text: one text per line (text_a<TAB>text_b for a pair model)')
    .option('-o, --output <file>', 'labelled lines: text<TAB>label (plus probabilities with --probabilities)')
    .option('--probabilities', "add the teacher's probabilities (space-separated) for soft-label training")
    .option(
      '--batch-size <n>',
      'lines per teacher batch (part of the result: keep it to resume)',
      positiveInt('--batch-size'),
      64,
    )
    .option('--sync-every <n>', 'lines between durable progress points', positiveInt('--sync-every'), 2048)
    .option(
      '--stall-timeout <seconds>',
      "rank 0 fails when no other worker's shard progressed for this long",
      positiveNumber('--stall-timeout'),
      600,
    )
    .option('--merge <file>', 'only merge the finished shards in <file>.shards/ into <file>')
    .option(...threadsOption("teacher threads (default: this machine's cores divided among its workers)"))
    .option('--quiet', 'no progress output');
  addLaunchFlags(command).action((flags: LabelFlags) =>
    runCommand(async () => {
      if (flags.merge !== undefined) {
        const { lines, world } = mergeShards(flags.merge);
        process.stdout.write(`merged ${world} shards: ${lines} lines → ${flags.merge}\n`);
        return;
      }
      // Checked before any launch: one error line, not one per rank.
      const missing = (['model', 'input', 'output'] as const).filter((f) => flags[f] === undefined);
      if (missing.length > 0)
        throw new UserError(`label: give ${missing.map((f) => `--${f}`).join(', ')} (or --merge <file>)`);
      const [teacherDir, input, output] = [flags.model!, flags.input!, flags.output!];
      const textColumns = teacherTextColumns(teacherDir);
      await launchOrRun(flags, async () => {
        const probabilities = flags.probabilities ?? false;
        const fingerprint = await labellingFingerprint({
          teacherDir,
          input,
          probabilities,
          batchSize: flags.batchSize,
        });
        mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
        const worker = workerRank();
        // The first Ctrl-C stops after the current batch, made durable; a second one quits at once.
        const stop = new AbortController();
        const onSignal = () => {
          if (stop.signal.aborted) process.exit(130);
          stop.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const r = await labelWithTeacher({
            teacherDir,
            input,
            output,
            textColumns,
            probabilities,
            batchSize: flags.batchSize,
            fingerprint,
            worker,
            threads: flags.threads,
            syncEvery: flags.syncEvery,
            stallSeconds: flags.stallTimeout,
            quiet: flags.quiet ?? false,
            signal: stop.signal,
            log: (line) => process.stderr.write(line + '\n'),
          });
          if (!r.complete || (worker.rank === 0 && !r.merged)) {
            throw new Interrupted('label');
          }
          const lines =
            r.shard.end > r.shard.start ? `lines ${r.shard.start + 1}-${r.shard.end}` : 'no lines';
          const who = worker.world > 1 ? ` (rank ${worker.rank} of ${worker.world}: ${lines})` : '';
          const what = r.merged ? `${r.total} lines labelled → ${output}` : `shard done`;
          process.stdout.write(`${what}${who}; ${r.labelled} labelled by this run\n`);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
    })(),
  );
}
