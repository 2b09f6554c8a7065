import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadTensors, disposeAll } from '../../src/engine/state-io.js';
import { latestCheckpoint } from '../../src/train/checkpoint.js';
import { parseMultitaskConfig, trainMultitask } from '../../src/train/multitask-training.js';
import { stopAfterSteps } from '../../src/train/stop-after.js';
import { loadModelDir } from '../../src/train/model-dir.js';
import { readMetricsLog } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

const PEOPLE = ['张三', '李四', '王五', '赵六', '孙七'];
const ORGS = ['华为', '腾讯', '百度', '京东'];
const FILL = [...'我们他在的了是去和说年月日'];

/** Character NER lines: filler, a person, filler, an organisation, filler (tokens<TAB>BIO tags). */
function writeNer(file: string, n: number, seed: number): void {
  const rng = new Rng(seed);
  const lines = Array.from({ length: n }, () => {
    const tokens: string[] = [];
    const tags: string[] = [];
    const fill = () => {
      for (let i = 0, k = 1 + rng.int(3); i < k; i++) {
        tokens.push(FILL[rng.int(FILL.length)]);
        tags.push('O');
      }
    };
    const entity = (text: string, type: string) =>
      [...text].forEach((ch, i) => {
        tokens.push(ch);
        tags.push(`${i === 0 ? 'B' : 'I'}-${type}`);
      });
    fill();
    entity(PEOPLE[rng.int(PEOPLE.length)], 'PER');
    fill();
    entity(ORGS[rng.int(ORGS.length)], 'ORG');
    fill();
    return `${tokens.join(' ')}\t${tags.join(' ')}`;
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

test('multi-task: a shared GRU encoder learns classification and NER; each task gets a standalone model dir', async () => {
  const dir = tempDir();
  const s = writeSentimentSplits(dir, { train: 240, dev: 50, test: 50 });
  writeNer(path.join(dir, 'ner-train.tsv'), 200, 1);
  writeNer(path.join(dir, 'ner-dev.tsv'), 40, 2);
  const raw = {
    '// shared': 'text settings, encoder and trainer',
    dataset: { max_len: 32 },
    model: { net: 'gru', embedding_dim: 32, hidden_size: 32, dropout: 0.1 },
    trainer: { epochs: 6, batch_size: 16, learning_rate: 0.01, eval_step: 40, threads: 1, output_dir: 'mt' },
    tasks: [
      { name: 'sentiment', task: 'text_classification', train: s.train, dev: s.dev, test: s.test },
      { name: 'ner', task: 'sequence_labeling', train: 'ner-train.tsv', dev: 'ner-dev.tsv', weight: 0.5 },
    ],
  };
  const mc = parseMultitaskConfig(raw, path.join(dir, 'multitask.json'));
  assert.equal(mc.tasks[1].config.dataset.train, path.join(dir, 'ner-train.tsv'));
  const summary = await trainMultitask(mc, { log: () => {} });
  assert.ok(
    summary.tasks.sentiment.test!.accuracy >= 0.85,
    `sentiment ${summary.tasks.sentiment.test!.accuracy}`,
  );
  assert.ok(summary.tasks.ner.dev!.f1 >= 0.85, `ner f1 ${summary.tasks.ner.dev!.f1}`);

  // Per-task metrics in the log, the train lines say which task each step trained.
  const log = readMetricsLog(path.join(dir, 'mt', 'metrics.jsonl'));
  assert.ok(log.some((e) => e.type === 'eval' && e.task === 'ner' && 'f1' in e));
  assert.ok(log.some((e) => e.type === 'eval' && e.task === 'sentiment' && 'macro_f1' in e));
  assert.ok(log.some((e) => e.type === 'test' && e.task === 'sentiment'));

  // One vocabulary and one encoder: both model dirs hold identical encoder weights.
  const a = loadTensors(path.join(dir, 'mt', 'best', 'sentiment', 'model.safetensors')).tensors;
  const b = loadTensors(path.join(dir, 'mt', 'best', 'ner', 'model.safetensors')).tensors;
  const encoderNames = [...a.keys()].filter((k) => k.startsWith('encoder.'));
  assert.ok(encoderNames.length > 3);
  for (const k of encoderNames) assert.deepEqual(a.get(k)!.toArray(), b.get(k)!.toArray(), k);
  assert.ok(a.has('classifier.weight') && b.has('crf.transitions'));
  disposeAll(a);
  disposeAll(b);
  assert.equal(
    readFileSync(path.join(dir, 'mt', 'best', 'ner', 'vocab.txt'), 'utf8'),
    readFileSync(path.join(dir, 'mt', 'best', 'sentiment', 'vocab.txt'), 'utf8'),
  );

  // The task dirs are ordinary models.
  const ner = loadModelDir(path.join(dir, 'mt', 'best', 'ner'));
  const [p] = ner.task.predict(ner.model, [ner.task.encode({ tokens: [...'我们张三在华为了'] })]);
  assert.deepEqual(
    p.entities.map((e: { type: string; text: string }) => `${e.type}:${e.text}`),
    ['PER:张三', 'ORG:华为'],
  );
  ner.model.dispose();
});

test('multi-task config errors name the file and the task', () => {
  const file = '/data/multitask.json';
  assert.throws(
    () =>
      parseMultitaskConfig(
        {
          model: { net: 'gru' },
          trainer: { output_dir: 'x' },
          tasks: [{ name: 'a b', task: 'text_classification', train: 't' }],
        },
        file,
      ),
    /multitask\.json: tasks\.0\.name: letters, digits/,
  );
  assert.throws(
    () =>
      parseMultitaskConfig(
        {
          model: { net: 'gru', hidden: 3 },
          trainer: { output_dir: 'x' },
          tasks: [{ name: 'a', task: 'text_classification', train: 't' }],
        },
        file,
      ),
    /multitask\.json \(tasks\.0, "a"\): model: Unrecognized key/,
  );
  // Multi-task training reads its files into memory: a task asking for a stream is told so in one line.
  assert.throws(
    () =>
      parseMultitaskConfig(
        {
          model: { net: 'gru' },
          trainer: { output_dir: 'x' },
          tasks: [{ name: 'a', task: 'text_classification', train: 't', dataset: { streaming: true } }],
        },
        file,
      ),
    /^UserError: \/data\/multitask\.json \(tasks\.0, "a"\): dataset\.streaming: multi-task training reads every task's training file into memory; set it to false or "auto"$/,
  );
});

/** A small two-task config (dropout on, so the generator state matters) writing into `out`. */
function smallConfig(dir: string, out: string, trainer: Record<string, unknown> = {}) {
  const s = writeSentimentSplits(dir, { train: 60, dev: 20, test: 20 });
  writeNer(path.join(dir, 'ner-train.tsv'), 50, 3);
  writeNer(path.join(dir, 'ner-dev.tsv'), 16, 4);
  return {
    dataset: { max_len: 24 },
    model: { net: 'gru', embedding_dim: 16, hidden_size: 16, dropout: 0.2 },
    trainer: {
      epochs: 3,
      batch_size: 8,
      learning_rate: 0.01,
      eval_step: 5,
      train_log_step: 3,
      save_model_step: 7,
      threads: 1,
      output_dir: out,
      ...trainer,
    },
    tasks: [
      { name: 'sentiment', task: 'text_classification', train: s.train, dev: s.dev, test: s.test },
      { name: 'ner', task: 'sequence_labeling', train: 'ner-train.tsv', dev: 'ner-dev.tsv', weight: 0.5 },
    ],
  };
}

/** The files of two runs that must be byte for byte the same. */
function assertSameRun(a: string, b: string): void {
  const final = path.basename(latestCheckpoint(a)!);
  assert.equal(path.basename(latestCheckpoint(b)!), final);
  for (const rel of [
    'best/sentiment/model.safetensors',
    'best/ner/model.safetensors',
    `checkpoints/${final}/model.safetensors`,
    `checkpoints/${final}/optimizer.safetensors`,
    'metrics.jsonl',
  ]) {
    assert.ok(
      readFileSync(path.join(b, rel)).equals(readFileSync(path.join(a, rel))),
      `${rel} differs from the uninterrupted run`,
    );
  }
}

test('multi-task: a run stopped after K steps and resumed ends bit-identical to an uninterrupted one', async () => {
  const dir = tempDir();
  const quiet = { quiet: true, log: () => {} };
  const parse = (out: string) =>
    parseMultitaskConfig(smallConfig(dir, out), path.join(dir, 'multitask.json'));
  const whole = await trainMultitask(parse('a'), quiet);
  // 8 + 7 batches an epoch: step 11 is inside an epoch, between evaluations, log lines and checkpoints.
  const stopped = await trainMultitask(parse('b'), { ...quiet, ...stopAfterSteps(11) });
  assert.equal(stopped.interrupted, true);
  assert.equal(stopped.steps, 11);
  assert.ok(!existsSync(path.join(dir, 'b', 'multitask.json')), 'an interrupted run writes no summary');
  const resumed = await trainMultitask(parse('b'), { ...quiet, resume: true });
  assert.equal(resumed.interrupted, undefined);
  assert.equal(resumed.steps, whole.steps);
  assert.deepEqual(resumed.best, whole.best);
  assert.deepEqual(resumed.tasks.ner.dev, whole.tasks.ner.dev);
  assertSameRun(path.join(dir, 'a'), path.join(dir, 'b'));

  // The train lines: one per task that trained since the last line, with the mean of its losses.
  const lines = readMetricsLog(path.join(dir, 'a', 'metrics.jsonl')).filter((e) => e.type === 'train');
  assert.ok(lines.every((e) => (e.task === 'sentiment' || e.task === 'ner') && Number(e.step) % 3 === 0));
  assert.ok(lines.length > whole.steps / 3, 'both tasks logged in most windows');
});

test('multi-task: Ctrl-C ends `alembic multitask` at a checkpoint; --resume finishes as an uninterrupted run', async () => {
  const dir = tempDir();
  const raw = smallConfig(dir, 'run');
  const file = path.join(dir, 'multitask.json');
  writeFileSync(file, JSON.stringify(raw));
  await trainMultitask(
    parseMultitaskConfig({ ...raw, trainer: { ...raw.trainer, output_dir: 'reference' } }, file),
    { quiet: true, log: () => {} },
  );
  const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin/alembic.js');
  const runCli = (args: string[], interrupt: boolean) =>
    new Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'multitask', '-c', file, '--quiet', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        // The loop sees the signal after its first step at the latest: the run stops early.
        if (interrupt && /model: /.test(stderr)) child.kill('SIGINT');
      });
      child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    });
  const first = await runCli([], true);
  assert.equal(first.signal, 'SIGINT', first.stderr);
  assert.match(first.stderr, /stopped at step \d+; continue with --resume/);
  assert.ok(latestCheckpoint(path.join(dir, 'run')), 'a checkpoint was written');
  const second = await runCli(['--resume'], false);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /resumed from /);
  assertSameRun(path.join(dir, 'reference'), path.join(dir, 'run'));
});
