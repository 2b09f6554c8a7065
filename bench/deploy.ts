/**
 * Deployment benchmark: trains each preset network briefly on generated Chinese text (speed does not
 * depend on accuracy), exports it to ONNX in fp32 and int8, and runs `alembic bench` over the trained
 * (libtorch) and exported (onnxruntime) directories: latency p50/p95/p99 and QPS at batch 1 and 32,
 * ratios to the reference figures (deploy-references.ts) and to PyTorch's export timed in the same run
 * (torch-reference.ts), an HTTP load test of `alembic serve` per network, and the checks (deploy-checks.ts).
 *
 *   npm run bench:deploy [-- --nets bow,cnn,transformer] [--steps 200] [--seconds 3] [--reuse] [--out DIR]
 *                        [--int8-weights 7|8]
 *
 * int8 weights default to 7 bits: the reference int8 figures come from onnxruntime's fast U8S8 kernel, which
 * on x86 CPUs without VNNI (this machine) is exact only for 7-bit weights (onnxruntime's own advice there is
 * reduce_range); 8-bit weights run the slower exact kernel alembic's sessions select (quantize.ts).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderReport } from '../src/deploy/bench/bench-report.js';
import { runBench } from '../src/deploy/bench/run-bench.js';
import { exportModelDir } from '../src/deploy/export/export-dir.js';
import { parseConfig } from '../src/config/run-config.js';
import { train } from '../src/train/trainer.js';
import { Rng } from '../src/util/rng.js';
import { parseLoadGenerator } from '../src/deploy/bench/load-generator.js';
import { checks, DEPLOY_EXTRAS } from './deploy-checks.js';
import { sameRunReferences } from './deploy-references.js';

const { values: args } = parseArgs({
  options: {
    nets: { type: 'string', default: 'bow,cnn,gru,lstm,transformer' },
    steps: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '3' },
    'http-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    'serve-threads': { type: 'string', default: '1' },
    /** wrk or autocannon (default: wrk when installed). */
    'load-generator': { type: 'string' },
    reuse: { type: 'boolean', default: false },
    'int8-weights': { type: 'string', default: '7' },
    strict: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(os.tmpdir(), 'alembic-bench-deploy') },
  },
});

if (!['7', '8'].includes(args['int8-weights']!)) throw new Error('--int8-weights: 7 or 8');

const SEQ = 64;

/** The preset shapes (the advisor's, and the reference figures'): 128-wide small nets, a 4-layer 256 Transformer. */
function modelFor(net: string) {
  if (net === 'transformer')
    return { net, hidden_size: 256, num_layers: 4, num_heads: 4, ffn_size: 1024, dropout: 0.1 };
  return {
    net,
    embedding_dim: 128,
    hidden_size: 128,
    num_filters: 128,
    kernel_widths: [2, 3, 4],
    dropout: 0.1,
  };
}

/**
 * Review-like texts of 80 characters drawn from 3,000 common-range ideographs, so every input fills the
 * 64-token window; a cue word decides the label so training has something to learn.
 */
function writeData(dir: string): { train: string; dev: string } {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(2024);
  const pool = Array.from({ length: 3000 }, (_, i) => String.fromCodePoint(0x4e00 + i * 5));
  const cues = [
    ['好', '棒', '喜欢', '满意'],
    ['差', '烂', '讨厌', '失望'],
  ];
  const line = () => {
    const label = rng.int(2);
    const chars = Array.from({ length: 80 }, () => pool[rng.int(pool.length)]);
    chars.splice(rng.int(40), 0, cues[label][rng.int(4)]);
    return `${chars.join('')}\t${label ? '负面' : '正面'}`;
  };
  const files = { train: path.join(dir, 'train.tsv'), dev: path.join(dir, 'dev.tsv') };
  writeFileSync(files.train, Array.from({ length: 4000 }, line).join('\n') + '\n');
  writeFileSync(files.dev, Array.from({ length: 300 }, line).join('\n') + '\n');
  return files;
}

async function prepare(net: string, data: { train: string; dev: string }): Promise<string[]> {
  const root = path.join(args.out!, net);
  const modelDir = path.join(root, 'run', 'best');
  const fp32 = path.join(root, 'onnx-fp32');
  const int8 = path.join(root, 'onnx-int8');
  // --reuse keeps the trained model but exports it again: exports take seconds and must reflect the exporter.
  if (!(args.reuse && existsSync(path.join(modelDir, 'alembic-model.json')))) await trainNet(net, data, root);
  await exportModelDir(modelDir, fp32);
  const q = await exportModelDir(modelDir, int8, {
    int8: true,
    quantize: { reduceRange: args['int8-weights'] === '7' },
  });
  process.stderr.write(
    `${net}: exported fp32 and int8 (${args['int8-weights']}-bit weights)` +
      (q.dev
        ? ` (dev ${q.dev.metric} ${q.dev.fp32.toFixed(3)} → ${q.dev.int8.toFixed(3)}, ` +
          `predictions agree on ${(100 * q.dev.agreement).toFixed(1)} %)`
        : '') +
      '\n',
  );
  return [modelDir, fp32, int8];
}

async function trainNet(net: string, data: { train: string; dev: string }, root: string): Promise<void> {
  const steps = Number(args.steps);
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: data.train, dev: data.dev, tokenizer: { type: 'char' }, max_len: SEQ },
      model: modelFor(net),
      trainer: {
        max_steps: steps,
        batch_size: 32,
        learning_rate: net === 'transformer' ? 3e-4 : 1e-3,
        train_log_step: 50,
        eval_step: steps,
        save_model_step: steps,
        // One thread: training speed does not matter here, and one thread never waits on a busy sibling.
        threads: 1,
        output_dir: path.join(root, 'run'),
      },
    },
    path.join(root, 'config.json'),
  );
  const t0 = performance.now();
  const summary = await train(config, { quiet: true, log: () => {} });
  process.stderr.write(
    `${net}: trained ${summary.steps} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s ` +
      `(dev accuracy ${summary.dev?.accuracy?.toFixed(3) ?? '—'})\n`,
  );
}

const nets = args.nets!.split(',').map((s) => s.trim());
const data = writeData(path.join(args.out!, 'data'));
const dirs: string[] = [];
for (const net of nets) dirs.push(...(await prepare(net, data)));
const report = await runBench({
  dirs,
  batchSizes: [1, 32],
  threads: Number(args.threads),
  timing: { warmupSeconds: 0.5, seconds: Number(args.seconds), minRuns: 20 },
  http: {
    connections: Number(args.connections),
    maxRequests: 50_000,
    maxSeconds: Number(args['http-seconds']),
    warmupSeconds: 1,
    textsPerRequest: 1,
    threads: Number(args['serve-threads']),
    generator: parseLoadGenerator(args['load-generator']),
  },
  references: sameRunReferences(path.join(args.out!, 'torch-reference')),
  floors: true,
  log: (l) => process.stderr.write(l + '\n'),
});
process.stdout.write(renderReport(report, DEPLOY_EXTRAS));
if (args.strict && checks(report).some((c) => !c.pass)) process.exitCode = 1;
