/**
 * Teacher labelling throughput, one process vs a group of workers (`alembic label --nproc 2`), on real
 * text: the unlabelled Tang/Song poems that `alembic data prepare tang-song` writes, labelled by a small
 * Transformer teacher trained on the gold poems. Every run goes through the CLI as a user runs it, so
 * the times include process start-up (measured separately on a one-line file and also shown
 * subtracted). Prints lines/s and the ratio to one process using every core, and checks that every
 * output is byte-for-byte the baseline's and the one-thread run's (a different thread count may change
 * the last digit of a probability; a different number of workers with the same threads must not change
 * anything).
 *
 * On a 2-core machine expect rough parity between 1 process × 2 threads and 2 processes × 1 thread:
 * the point of sharding is machines with more cores than one process can use, and several machines.
 *
 * bench/scale.ts runs the same measurement (measureLabelling).
 *
 *   npm run bench:label [-- --out DIR] [--unlabelled N] [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/run-config.js';
import { train } from '../src/train/trainer.js';
import { textTable } from '../src/util/text-table.js';

const CLI = fileURLToPath(new URL('../bin/alembic.js', import.meta.url));
const alembic = (cliArgs: string[]) => execFileSync(process.execPath, [CLI, ...cliArgs], { stdio: 'pipe' });

export interface LabellingRun {
  name: string;
  /** Lines per second, wall time (start-up included) and without the start-up time. */
  linesPerSecond: number;
  withoutStartup: number;
  /** The output is byte for byte that of 1 process × 1 thread (the same thread count per worker). */
  sameBytesAsOneThread: boolean;
}

/**
 * Labels `unlabelled` tang-song poems with a trained teacher (both prepared in `out` once, then reused) by
 * 1 process × 2 threads, 1 × 1 and `--nproc 2` × 1, best of `rounds`; prints the table and returns the runs.
 */
export async function measureLabelling(o: {
  out: string;
  unlabelled: number;
  rounds: number;
}): Promise<{ lines: number; runs: LabellingRun[] }> {
  const out = path.resolve(o.out);
  const data = path.join(out, 'data');
  mkdirSync(out, { recursive: true });

  if (!existsSync(path.join(data, 'unlabelled.txt'))) {
    console.log(`preparing tang-song (${String(o.unlabelled)} unlabelled poems) in ${data}`);
    alembic([
      'data',
      'prepare',
      'tang-song',
      '--out',
      data,
      '--limit',
      '2000',
      '--unlabelled',
      String(o.unlabelled),
    ]);
  }
  const input = path.join(data, 'unlabelled.txt');
  const lines = readFileSync(input, 'utf8').split('\n').length - 1;

  const teacher = path.join(out, 'teacher', 'best');
  if (!existsSync(teacher)) {
    console.log('training the teacher (Transformer 2 × 128, 1 epoch on 2,000 poems)');
    const config = parseConfig(
      {
        task: 'text_classification',
        dataset: {
          train: path.join(data, 'train.tsv'),
          dev: path.join(data, 'dev.tsv'),
          max_len: 64,
        },
        model: {
          net: 'transformer',
          num_layers: 2,
          hidden_size: 128,
          embedding_dim: 128,
          num_heads: 4,
          ffn_size: 256,
        },
        trainer: {
          epochs: 1,
          batch_size: 32,
          learning_rate: 0.0005,
          threads: 2,
          output_dir: path.join(out, 'teacher'),
        },
      },
      path.join(out, 'teacher.json'),
    );
    await train(config, { quiet: true, log: () => {} });
  }

  /** Wall seconds of one `alembic label` run into a fresh output. */
  function timeLabel(file: string, output: string, extra: string[]): number {
    rmSync(output, { force: true });
    rmSync(`${output}.progress`, { force: true });
    const started = performance.now();
    alembic(['label', '-m', teacher, '-i', file, '-o', output, '--probabilities', '--quiet', ...extra]);
    return (performance.now() - started) / 1000;
  }

  const tiny = path.join(out, 'one-line.txt');
  writeFileSync(tiny, readFileSync(input, 'utf8').split('\n')[0] + '\n');
  const modes = [
    { name: '1 process × 2 threads', flags: ['--threads', '2'] },
    { name: '1 process × 1 thread', flags: ['--threads', '1'] },
    { name: '2 processes × 1 thread (--nproc 2)', flags: ['--threads', '1', '--nproc', '2'] },
  ];
  const best = modes.map(() => Infinity);
  const startup = modes.map(() => Infinity);
  for (let round = 0; round < o.rounds; round++) {
    // Interleaved, best of the rounds: the machine is shared, and a slow round is someone else's load.
    modes.forEach((m, i) => {
      startup[i] = Math.min(startup[i], timeLabel(tiny, path.join(out, `startup-${i}.tsv`), m.flags));
      best[i] = Math.min(best[i], timeLabel(input, path.join(out, `labelled-${i}.tsv`), m.flags));
    });
  }
  const labelled = (i: number) => readFileSync(path.join(out, `labelled-${i}.tsv`));
  const [baseline, oneThread] = [labelled(0), labelled(1)];
  const rows = modes.map((m, i) => {
    const bytes = labelled(i);
    const net = Math.max(best[i] - startup[i], 1e-9);
    return [
      m.name,
      best[i].toFixed(1),
      (lines / best[i]).toFixed(0),
      startup[i].toFixed(1),
      (lines / net).toFixed(0),
      (best[0] / best[i]).toFixed(2),
      ((best[0] - startup[0]) / net).toFixed(2),
      bytes.equals(baseline) ? 'yes' : 'no',
      bytes.equals(oneThread) ? 'yes' : 'no',
    ];
  });
  console.log(
    `\nlabelling ${lines} unlabelled Tang/Song poems, ${os.availableParallelism()} cores, best of ${o.rounds}`,
  );
  console.log(
    textTable(
      [
        'run',
        'wall s',
        'lines/s',
        'start-up s',
        'lines/s w/o start-up',
        '× baseline',
        '× w/o start-up',
        'same bytes as row 1',
        'as row 2',
      ],
      rows,
    ).join('\n'),
  );
  return {
    lines,
    runs: modes.map((m, i) => ({
      name: m.name,
      linesPerSecond: lines / best[i],
      withoutStartup: lines / Math.max(best[i] - startup[i], 1e-9),
      sameBytesAsOneThread: labelled(i).equals(oneThread),
    })),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: args } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(os.tmpdir(), 'alembic-bench-label') },
      unlabelled: { type: 'string', default: '8000' },
      rounds: { type: 'string', default: '2' },
    },
  });
  await measureLabelling({
    out: args.out,
    unlabelled: Number(args.unlabelled),
    rounds: Number(args.rounds),
  });
}
