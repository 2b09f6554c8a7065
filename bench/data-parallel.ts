/**
 * Data-parallel training on this machine: the same small Transformer classifier (Tang vs Song poems,
 * chinese-poetry) trained for the same steps on the same global batch by
 *   1 process × T threads   (`alembic train`, batch 32), and
 *   1 process × 1 thread, and
 *   N processes × T/N threads (`alembic train --nproc N`, batch 32/N per rank), gradients all-reduced during
 *   backward by c10d's DDP reducer, and the same with them all-reduced after backward (ALEMBIC_DDP_REDUCER=0,
 *   the baseline the overlap is measured against),
 * all through the CLI, in the same run. "Training" seconds are the run's own (data, model, steps), without
 * process start-up. Prints steps per second of each, their ratio, and what the gradient all-reduce cost per
 * step (from rank 0's `data-parallel:` line: bytes, milliseconds, how many of them ran during backward and
 * how many were waited for after it). On a
 * machine with as many cores as threads in both setups, expect rough parity: the point of several
 * processes is several machines, and the last lines project the all-reduce time for 8 and 64 workers
 * from the measured bytes per step (ring all-reduce: each worker sends and receives 2·(N−1)/N of them).
 * bench/scale.ts runs the same comparison (compareProcesses).
 *
 *   npm run bench:data-parallel [-- --steps 60 --nproc 2 --threads 2]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTangSong } from '../src/data/corpora/chinese-poetry.js';
import { writeTsv } from '../src/data/corpora/write-tsv.js';

const GLOBAL_BATCH = 32;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'alembic.js');

export interface ProcessComparison {
  /** Examples per second: 1 process × `threads`, 1 process × 1 thread, `nproc` processes. */
  oneProcess: number;
  oneThread: number;
  processes: number;
  /** The gradient all-reduce per step, from rank 0's `data-parallel:` line (absent if it printed none). */
  allReduce?: { mb: number; ms: number; shareOfStep?: number; stepMs?: number };
}

/**
 * Trains the same model for the same steps and global batch as 1 process × `threads`, 1 × 1 (when
 * threads > 1) and `nproc` processes × threads/nproc, through the CLI; prints and returns the rates and
 * what the all-reduce cost.
 */
export function compareProcesses(o: { steps: number; nproc: number; threads: number }): ProcessComparison {
  const { steps: STEPS, nproc: NPROC, threads: THREADS } = o;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alembic-bench-dp-'));
  try {
    const train = path.join(dir, 'train.tsv');
    writeTsv(loadTangSong({ limitPerClass: 1000 }), train);

    /** Runs one training; returns its steps per second over the steps after the first (warm-up) log line. */
    const run = (name: string, nproc: number, threads: number, env: Record<string, string> = {}) => {
      const config = path.join(dir, `${name}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          task: 'text_classification',
          dataset: { train, max_len: 64, tokenizer: { type: 'char' } },
          model: {
            net: 'transformer',
            hidden_size: 128,
            num_layers: 2,
            num_heads: 4,
            ffn_size: 512,
            dropout: 0.1,
          },
          trainer: {
            max_steps: STEPS,
            batch_size: GLOBAL_BATCH / nproc,
            learning_rate: 3e-4,
            eval_step: 1_000_000,
            save_model_step: 1_000_000,
            train_log_step: 10,
            threads,
            output_dir: path.join(dir, name),
          },
        }),
      );
      const args = [BIN, 'train', '-c', config, ...(nproc > 1 ? ['--nproc', String(nproc)] : [])];
      const started = performance.now();
      const r = spawnSync(process.execPath, args, {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        env: { ...process.env, ...env },
      });
      const wall = (performance.now() - started) / 1000;
      if (r.status !== 0) throw new Error(`${name} failed:\n${r.stderr}`);
      const summary = JSON.parse(r.stdout) as { seconds: number; steps: number; parameters: number };
      const line =
        /data-parallel: .*? of ([\d.]+) MB of gradients ([\d.]+) ms per step(?: \(([\d.]+)% of a ([\d.]+) ms step\))?; in (\d+) buckets? .*?: ([\d.]+) ms of it during backward, ([\d.]+) ms waited after backward(?: \(([\d.]+)% of the step\))?/.exec(
          r.stderr,
        );
      const cost = line && {
        mb: Number(line[1]),
        ms: Number(line[2]),
        share: line[3],
        stepMs: line[4],
        buckets: Number(line[5]),
        duringMs: Number(line[6]),
        waitMs: Number(line[7]),
        waitShare: line[8],
      };
      return { summary, wall, cost };
    };

    console.log(
      `bench:data-parallel — Transformer classifier, ${STEPS} steps of global batch ${GLOBAL_BATCH}, ` +
        `${os.availableParallelism()} cores on this machine`,
    );
    const one = run('one', 1, THREADS);
    const single = THREADS > 1 ? run('single', 1, 1) : one;
    const many = run('many', NPROC, Math.max(1, Math.floor(THREADS / NPROC)));
    const after = run('after', NPROC, Math.max(1, Math.floor(THREADS / NPROC)), {
      ALEMBIC_DDP_REDUCER: '0',
    });
    const rate = (r: typeof one) => r.summary.steps / r.summary.seconds;
    console.log(`  parameters: ${one.summary.parameters.toLocaleString('en')}`);
    console.log(
      `  1 process × ${THREADS} threads:   ${rate(one).toFixed(2)} steps/s (${(rate(one) * GLOBAL_BATCH).toFixed(0)} examples/s; training ${one.summary.seconds.toFixed(1)} s, wall ${one.wall.toFixed(1)} s)`,
    );
    console.log(
      `  ${NPROC} processes × ${Math.max(1, Math.floor(THREADS / NPROC))} thread(s): ${rate(many).toFixed(2)} steps/s (${(rate(many) * GLOBAL_BATCH).toFixed(0)} examples/s; training ${many.summary.seconds.toFixed(1)} s, wall ${many.wall.toFixed(1)} s)`,
    );
    if (single !== one)
      console.log(
        `  1 process × 1 thread:    ${rate(single).toFixed(2)} steps/s (${(rate(single) * GLOBAL_BATCH).toFixed(0)} examples/s; training ${single.summary.seconds.toFixed(1)} s)`,
      );
    console.log(
      `  ratio ${NPROC}-process / 1-process × ${THREADS} threads: ${(rate(many) / rate(one)).toFixed(2)}×`,
    );
    if (single !== one)
      console.log(
        `  ratio ${NPROC}-process / 1-process × 1 thread: ${(rate(many) / rate(single)).toFixed(2)}×`,
      );
    console.log(
      `  ${NPROC} processes, gradients all-reduced after backward: ${rate(after).toFixed(2)} steps/s ` +
        `(training ${after.summary.seconds.toFixed(1)} s); during / after backward: ${(rate(many) / rate(after)).toFixed(2)}×`,
    );
    for (const [what, r] of [
      ['during backward (c10d DDP reducer)', many],
      ['after backward (baseline)', after],
    ] as const) {
      const c = r.cost;
      if (!c) continue;
      console.log(
        `  all-reduce ${what}: ${c.mb} MB in ${c.buckets} bucket(s), ${c.ms} ms per step` +
          (c.share ? ` (${c.share}% of a ${c.stepMs} ms step)` : '') +
          `, ${c.duringMs} ms of it during backward, ${c.waitMs} ms waited after backward` +
          (c.waitShare ? ` (${c.waitShare}% of the step)` : '') +
          ' (loopback, same machine)',
      );
    }
    if (many.cost && after.cost)
      console.log(
        `  wait after backward, during / after: ${(many.cost.waitMs / after.cost.waitMs).toFixed(2)}×`,
      );
    if (many.cost) {
      const { mb } = many.cost;
      const bytes = Number(mb) * 1e6;
      console.log(
        '  PROJECTION (not measured): ring all-reduce time per step = 2·(N−1)/N × bytes ÷ link bandwidth',
      );
      for (const gbit of [10, 100]) {
        const parts = [8, 64].map((n) => {
          const seconds = ((2 * (n - 1)) / n) * (bytes / ((gbit * 1e9) / 8));
          return `${n} workers ${(seconds * 1000).toFixed(2)} ms`;
        });
        console.log(`    ${gbit} Gbit/s links: ${parts.join(', ')} (plus 2·(N−1) message latencies)`);
      }
    }
    return {
      oneProcess: rate(one) * GLOBAL_BATCH,
      oneThread: rate(single) * GLOBAL_BATCH,
      processes: rate(many) * GLOBAL_BATCH,
      allReduce: many.cost
        ? {
            mb: many.cost.mb,
            ms: many.cost.ms,
            shareOfStep: many.cost.share ? Number(many.cost.share) : undefined,
            stepMs: many.cost.stepMs ? Number(many.cost.stepMs) : undefined,
          }
        : undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
  };
  compareProcesses({
    steps: arg('steps', 60),
    nproc: arg('nproc', 2),
    threads: arg('threads', Math.min(2, os.availableParallelism())),
  });
}
