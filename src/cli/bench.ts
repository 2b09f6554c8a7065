/**
 * `alembic bench`: latency and throughput of trained (libtorch) and exported (onnxruntime fp32/int8)
 * model directories at batch 1 and 32, plus an HTTP load test of `alembic serve`, as one table.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { renderReport } from '../deploy/bench/bench-report.js';
import { runBench, type BenchOptions } from '../deploy/bench/run-bench.js';
import { UserError } from '../util/errors.js';
import { LOAD_GENERATORS, parseLoadGenerator } from '../deploy/bench/load-generator.js';
import { positiveNumber, positiveInt, runCommand } from './run.js';

interface BenchFlags {
  model: string[];
  batchSizes: number[];
  threads: number;
  seconds: number;
  warmup: number;
  seq?: number;
  http: boolean;
  connections: number;
  requests: number;
  httpSeconds: number;
  textsPerRequest: number;
  serveThreads?: number;
  loadGenerator?: string;
  json?: string;
  floors: boolean;
}

function batchList(v: string): number[] {
  const list = v.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0))
    throw new UserError(`--batch-sizes: expected positive integers separated by commas, got "${v}"`);
  return list;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'benchmark model directories (libtorch) and exports (onnxruntime fp32/int8), and alembic serve over HTTP',
    )
    .requiredOption(
      '-m, --model <dir>',
      'a trained or exported model directory; repeat to compare (a model and its exports form one group)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--batch-sizes <list>', 'batch sizes to time', batchList, [1, 32])
    .option('--threads <n>', 'intra-op threads for onnxruntime and libtorch', positiveInt('--threads'), 2)
    .option('--seconds <s>', 'measured seconds per model and batch size', positiveNumber('--seconds'), 3)
    .option('--warmup <s>', 'warm-up seconds before each measurement', positiveNumber('--warmup'), 0.5)
    .option('--seq <n>', 'input length in tokens (default: each model’s max_len)', positiveInt('--seq'))
    .option('--no-http', 'skip the HTTP load test of alembic serve')
    .option('--connections <n>', 'HTTP: concurrent connections', positiveInt('--connections'), 32)
    .option('--requests <n>', 'HTTP: stop after this many requests…', positiveInt('--requests'), 50_000)
    .option('--http-seconds <s>', 'HTTP: …or after this many seconds', positiveNumber('--http-seconds'), 10)
    .option('--texts-per-request <n>', 'HTTP: texts in each request', positiveInt('--texts-per-request'), 1)
    .option(
      '--serve-threads <n>',
      'HTTP: onnxruntime threads of the served model (default 1, the serve default)',
      positiveInt('--serve-threads'),
    )
    .option(
      '--load-generator <name>',
      `HTTP: ${LOAD_GENERATORS.join(' or ')} (default: wrk when installed, else autocannon)`,
    )
    .option(
      '--no-floors',
      'skip timing the host floor (a graph that does nothing; fastify answering without a model)',
    )
    .option('--json <file>', 'also write the raw figures as JSON')
    .action((flags: BenchFlags) =>
      runCommand(async () => {
        const opts: BenchOptions = {
          dirs: flags.model,
          batchSizes: flags.batchSizes,
          threads: flags.threads,
          seq: flags.seq,
          timing: { warmupSeconds: flags.warmup, seconds: flags.seconds, minRuns: 20 },
          http: flags.http
            ? {
                connections: flags.connections,
                maxRequests: flags.requests,
                maxSeconds: flags.httpSeconds,
                warmupSeconds: 1,
                textsPerRequest: flags.textsPerRequest,
                threads: flags.serveThreads ?? 1,
                generator: parseLoadGenerator(flags.loadGenerator),
              }
            : undefined,
          floors: flags.floors,
          log: (line) => process.stderr.write(line + '\n'),
        };
        const report = await runBench(opts);
        process.stdout.write(renderReport(report));
        if (flags.json)
          writeFileSync(
            flags.json,
            JSON.stringify(report, (k, v: unknown) => (k === 'manifest' ? undefined : v), 2) + '\n',
          );
      })(),
    );
}
