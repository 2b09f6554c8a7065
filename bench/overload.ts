/**
 * Goodput under overload: does `alembic serve` keep predicting when far more clients send than it can
 * answer? Trains a small network on the SpamAssassin corpus for a few steps (speed, not accuracy, is
 * measured), exports it to ONNX, then drives the service with the project's load generator at 2, 8, 32
 * and 256 connections, for requests of 1 text and of 256 texts (~880 characters each, ~225 KB a request).
 * Successful texts per second at the highest connection count must stay ≥ 70 % of the best rate at any
 * lower one (the baseline, measured in the same run); the server's peak memory is printed alongside.
 *
 *   npm run bench:overload [-- --model EXPORT_DIR] [--net cnn] [--steps 60] [--seconds 4]
 *                          [--connections 2,8,32,256] [--sizes 1,256] [--repeat 2] [--serve-args "…"]
 *
 * The rate compared is texts answered per second by the server's own count (/metrics) over each run; the
 * clients' count (200s received before the run stopped) is printed next to it.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { httpBench, type HttpBenchResult } from '../src/deploy/bench/http-bench.js';
import { parseLoadGenerator } from '../src/deploy/bench/load-generator.js';
import { exportModelDir } from '../src/deploy/export/export-dir.js';
import { spamAssassinSplits, writeSplits } from '../src/data/corpora/standard-splits.js';
import { parseConfig } from '../src/config/run-config.js';
import { train } from '../src/train/trainer.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    net: { type: 'string', default: 'cnn' },
    steps: { type: 'string', default: '60' },
    seconds: { type: 'string', default: '6' },
    repeat: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '2,8,32,256' },
    sizes: { type: 'string', default: '1,256' },
    chars: { type: 'string', default: '880' },
    'serve-args': { type: 'string', default: '' },
    'load-generator': { type: 'string' },
    out: { type: 'string', default: path.join(os.tmpdir(), 'alembic-bench-overload') },
  },
});

const TARGET = 0.7;
const ints = (s: string) => s.split(',').map((x) => Number(x.trim()));
const connections = ints(args.connections!).sort((a, b) => a - b);
const sizes = ints(args.sizes!);
const log = (l: string) => process.stderr.write(l + '\n');

/** A one-short-run CNN (or --net) on SpamAssassin, exported to ONNX; reused when already there. */
async function prepareModel(): Promise<string> {
  if (args.model) return args.model;
  const out = args.out!;
  const exportDir = path.join(out, `export-${args.net}-${args.steps}`);
  if (existsSync(path.join(exportDir, 'model.onnx'))) return exportDir;
  const files = writeSplits(spamAssassinSplits(), path.join(out, 'data'));
  const raw = {
    task: 'text_classification',
    dataset: { ...files, tokenizer: { type: 'char', lowercase: true }, max_len: 256 },
    model: { net: args.net, embedding_dim: 64, hidden_size: 64, num_filters: 64 },
    trainer: {
      max_steps: Number(args.steps),
      batch_size: 32,
      learning_rate: 2e-3,
      eval_step: Number(args.steps),
      save_model_step: Number(args.steps),
      threads: 1,
      output_dir: path.join(out, `run-${args.net}-${args.steps}`),
    },
  };
  const t0 = performance.now();
  const summary = await train(parseConfig(raw, path.join(out, 'config.json')), {
    quiet: true,
    log: () => {},
  });
  log(
    `${args.net}: trained ${summary.steps} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s ` +
      `(dev accuracy ${summary.dev?.accuracy?.toFixed(3) ?? '—'})`,
  );
  await exportModelDir(path.join(raw.trainer.output_dir, 'best'), exportDir);
  return exportDir;
}

/** 512 real emails cut to the same length in characters, so every request weighs about the same. */
function corpusTexts(chars: number): string[] {
  const long = spamAssassinSplits()
    .train.map((e) => [...e.text])
    .filter((cps) => cps.length >= chars)
    .map((cps) => cps.slice(0, chars).join(''));
  if (long.length < 512) throw new Error(`only ${long.length} emails have ${chars} characters`);
  return long.slice(0, 512);
}

/** Successful texts per second as the clients saw them: requests answered 200 within the run. */
function clientGoodput(r: HttpBenchResult): number {
  return ((r.requests - r.non2xx) * r.textsPerRequest) / r.seconds;
}

/**
 * Texts answered per second by the server's own count over the same run, which also counts the answers
 * still on their way when the load generator stops — with a full queue those are seconds of work that
 * a short run would otherwise miss at high connection counts only.
 */
function serverGoodput(r: HttpBenchResult): number {
  return r.serverTexts === undefined ? clientGoodput(r) : r.serverTexts / r.seconds;
}

/** Texts answered per CPU second of the server (undefined where /proc is missing). */
function perCpuSecond(r: HttpBenchResult): number | undefined {
  return r.serverTexts === undefined || !r.serverCpuSeconds ? undefined : r.serverTexts / r.serverCpuSeconds;
}

const mib = (b: number | undefined) => (b === undefined ? '—' : `${(b / 2 ** 20).toFixed(0)} MiB`);

const dir = await prepareModel();
const texts = corpusTexts(Number(args.chars));
const generator = parseLoadGenerator(args['load-generator']);
const serveArgs = args['serve-args']!.split(/\s+/).filter(Boolean);
const bytes = (n: number) => Buffer.byteLength(JSON.stringify({ texts: texts.slice(0, n) }));
log(`model ${dir}; load generator ${generator}; serve flags: ${serveArgs.join(' ') || '(defaults)'}`);

/** One measured run of `size` texts per request over `c` connections. */
function run(size: number, c: number): Promise<HttpBenchResult> {
  return httpBench(
    {
      dir,
      connections: c,
      maxRequests: 1e9,
      maxSeconds: Number(args.seconds),
      warmupSeconds: Number(args.warmup),
      textsPerRequest: size,
      threads: 1,
      serveArgs,
      texts,
      generator,
    },
    256,
  );
}

// Every setting runs --repeat times, the rounds interleaved, and keeps its best round: on a shared machine
// the other tenants' load comes and goes, and a setting should not lose because it ran at a bad moment.
const best = new Map<string, HttpBenchResult>();
const repeat = Number(args.repeat);
for (let round = 1; round <= repeat; round++)
  for (const size of sizes)
    for (const c of connections) {
      const r = await run(size, c);
      log(
        `round ${round}/${repeat}: ${size} text(s) × ${c} connections: ${serverGoodput(r).toFixed(0)} texts/s`,
      );
      const key = `${size}×${c}`;
      const prev = best.get(key);
      if (!prev || serverGoodput(r) > serverGoodput(prev)) best.set(key, r);
    }

let failed = false;
const verdicts: string[] = [];
for (const size of sizes) {
  process.stdout.write(
    `\n${size} text(s) per request (~${(bytes(size) / 1024).toFixed(0)} KB), best of ${repeat}\n` +
      `  conns   answered texts/s   client ok texts/s   texts/CPU-s   ok req/s   refused   errors   p50 ms   p99 ms   server peak RSS\n`,
  );
  const rates: number[] = [];
  const perCpu: (number | undefined)[] = [];
  for (const c of connections) {
    const r = best.get(`${size}×${c}`)!;
    const rate = serverGoodput(r);
    rates.push(rate);
    perCpu.push(perCpuSecond(r));
    process.stdout.write(
      `  ${String(c).padStart(5)}   ${rate.toFixed(0).padStart(16)}   ${clientGoodput(r).toFixed(0).padStart(17)}` +
        `   ${(perCpu.at(-1)?.toFixed(0) ?? '—').padStart(11)}` +
        `   ${((r.requests - r.non2xx) / r.seconds).toFixed(1).padStart(8)}` +
        `   ${String(r.non2xx).padStart(7)}   ${String(r.errors).padStart(6)}   ${r.p50.toFixed(1).padStart(6)}` +
        `   ${r.p99.toFixed(1).padStart(6)}   ${mib(r.serverPeakRss).padStart(15)}\n`,
    );
  }
  const bestLower = Math.max(...rates.slice(0, -1));
  const ratio = rates[rates.length - 1] / bestLower;
  const pass = ratio >= TARGET;
  failed ||= !pass;
  verdicts.push(
    `${size} text(s)/request: ${connections.at(-1)} connections give ${(100 * ratio).toFixed(0)} % of the best ` +
      `lower rate (${bestLower.toFixed(0)} texts/s; target ≥ ${100 * TARGET} %)  ${pass ? 'PASS' : 'FAIL'}`,
  );
  if (perCpu.every((x) => x !== undefined)) {
    const cpuRatio = perCpu.at(-1)! / Math.max(...(perCpu.slice(0, -1) as number[]));
    verdicts.push(
      `${' '.repeat(String(size).length)}   per server CPU second (steadier on a shared machine): ` +
        `${(100 * cpuRatio).toFixed(0)} %  ${cpuRatio >= TARGET ? 'PASS' : 'FAIL'}`,
    );
  }
}
process.stdout.write(
  `\n${verdicts.join('\n')}\nload average now: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${os.cpus().length} cores\n`,
);
process.exitCode = failed ? 1 : 0;
