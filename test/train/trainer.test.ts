import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopAfterSteps } from '../../src/train/stop-after.js';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, type TrainConfig } from '../../src/config/run-config.js';
import { ClassificationTask } from '../../src/tasks/classification.js';
import { loadModelDir } from '../../src/train/model-dir.js';
import { readMetricsLog, train } from '../../src/train/trainer.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

function config(dir: string, net: string, extra: Record<string, unknown> = {}): TrainConfig {
  const files = writeSentimentSplits(dir);
  return parseConfig(
    {
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, test: files.test, max_len: 32 },
      model: {
        net,
        embedding_dim: 32,
        hidden_size: 32,
        num_filters: 16,
        num_layers: 1,
        num_heads: 2,
        ffn_size: 64,
      },
      trainer: {
        epochs: 8,
        batch_size: 16,
        learning_rate: net === 'transformer' ? 0.002 : 0.005,
        train_log_step: 5,
        eval_step: 20,
        save_model_step: 25,
        threads: 1,
        output_dir: path.join(dir, 'run'),
        ...extra,
      },
    },
    path.join(dir, 'config.json'),
  );
}

for (const net of ['bow', 'cnn', 'gru', 'lstm', 'transformer']) {
  test(`${net}: trains on generated data, saves best/, logs metrics, writes the report`, async () => {
    const dir = tempDir();
    const c = config(dir, net);
    const summary = await train(c, { quiet: true, log: () => {} });
    assert.ok(summary.test!.accuracy >= 0.9, `${net} test accuracy ${summary.test!.accuracy}`);
    const out = c.trainer.output_dir;
    for (const f of ['alembic-model.json', 'model.safetensors', 'vocab.txt', 'label_map.json']) {
      assert.ok(existsSync(path.join(out, 'best', f)), `best/${f}`);
    }
    const log = readMetricsLog(path.join(out, 'metrics.jsonl'));
    assert.ok(log.some((e) => e.type === 'train' && e.step === 5));
    assert.ok(log.filter((e) => e.type === 'eval').length >= 3);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    assert.ok(readdirSync(path.join(out, 'checkpoints')).length <= 3);
    const m = loadModelDir(path.join(out, 'best'));
    const preds = m.task.predict(m.model, [
      m.task.encode({ text: '这个酒店很棒' }),
      m.task.encode({ text: '房间很差' }),
    ]);
    assert.deepEqual(
      preds.map((p: { labels: string[] }) => p.labels[0]),
      ['正面', '负面'],
    );
  });
}

test('an interrupted run resumes to exactly the weights of an uninterrupted one', async () => {
  const a = tempDir();
  const b = tempDir();
  const ca = config(a, 'cnn', { save_model_step: 1000 });
  const cb = config(b, 'cnn', { save_model_step: 1000 });
  await train(ca, { quiet: true, log: () => {} });
  const first = await train(cb, { quiet: true, log: () => {}, ...stopAfterSteps(33) });
  assert.equal(first.steps, 33);
  assert.ok(!existsSync(path.join(cb.trainer.output_dir, 'report.html')));
  await train(cb, { quiet: true, log: () => {}, resume: true });
  const final = (c: TrainConfig) => {
    const dirs = readdirSync(path.join(c.trainer.output_dir, 'checkpoints')).sort(
      (x, y) => Number(y.slice(5)) - Number(x.slice(5)),
    );
    return readFileSync(path.join(c.trainer.output_dir, 'checkpoints', dirs[0], 'model.safetensors'));
  };
  assert.ok(final(ca).equals(final(cb)), 'resumed weights differ from the uninterrupted run');
  const la = readMetricsLog(path.join(ca.trainer.output_dir, 'metrics.jsonl'));
  const lb = readMetricsLog(path.join(cb.trainer.output_dir, 'metrics.jsonl'));
  assert.deepEqual(lb, la, 'the metrics log of the resumed run has gaps or duplicates');
});

test('early stopping ends training when the dev metric stops improving', async () => {
  const dir = tempDir();
  const c = config(dir, 'bow', { epochs: 50, eval_step: 5, early_stopping: { metric: 'loss', patience: 2 } });
  const s = await train(c, { quiet: true, log: () => {} });
  assert.ok(s.steps < 50 * Math.ceil(300 / 16), `ran all ${s.steps} steps`);
  const evals = readMetricsLog(path.join(c.trainer.output_dir, 'metrics.jsonl')).filter(
    (e) => e.type === 'eval',
  );
  const best = Math.min(...evals.map((e) => Number(e.loss)));
  assert.equal(Number(evals.find((e) => e.step === s.best!.step)!.loss), best);
});

test('early-stopping patience spans patience_epochs of steps; stopping before one epoch is said', async () => {
  const stepsPerEpoch = Math.ceil(300 / 16);
  const run = async (patienceEpochs: number) => {
    const dir = tempDir();
    const es = { metric: 'accuracy', patience: 1, patience_epochs: patienceEpochs };
    const c = config(dir, 'bow', { epochs: 4, eval_step: 1, learning_rate: 1e-4, early_stopping: es });
    const lines: string[] = [];
    const s = await train(c, { quiet: true, log: (l) => lines.push(l) });
    return { s, notice: lines.find((l) => l.includes('before one pass over the training data')) };
  };
  // Counting evaluations only, one evaluation without improvement ends the run within the first epoch.
  const eager = await run(0);
  assert.ok(eager.s.steps < stepsPerEpoch, `stopped at ${eager.s.steps}`);
  assert.match(
    eager.notice ?? '',
    /early stopping at step \d+ of 76, before one pass over the training data \(19 steps\)/,
  );
  // In epochs: the run goes on until a whole epoch of steps has passed since the best evaluation.
  const patient = await run(1);
  assert.equal(patient.notice, undefined);
  assert.ok(patient.s.steps - patient.s.best!.step >= stepsPerEpoch || patient.s.steps === 4 * stepsPerEpoch);
  assert.ok(patient.s.steps >= stepsPerEpoch, `stopped at ${patient.s.steps}`);
});

test('pair and multi-label classification train end to end', async () => {
  const dir = tempDir();
  const { writeFileSync } = await import('node:fs');
  const { Rng } = await import('../../src/util/rng.js');
  const rng = new Rng(5);
  const words = ['猫', '狗', '鱼', '鸟'];
  const pairLines: string[] = [];
  const multiLines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const a = words[rng.int(4)];
    const b = rng.next() < 0.5 ? a : words[rng.int(4)];
    pairLines.push(`我 喜欢 ${a}\t${b} 很 可爱\t${a === b ? 1 : 0}`);
    const present = words.filter(() => rng.next() < 0.4);
    if (present.length === 0) present.push(words[0]);
    multiLines.push(`${present.join('和')}在家\t${present.join(' ')}`);
  }
  writeFileSync(path.join(dir, 'pair.tsv'), pairLines.join('\n') + '\n');
  writeFileSync(path.join(dir, 'multi.tsv'), multiLines.join('\n') + '\n');
  const base = (task: string, file: string) =>
    parseConfig(
      {
        task,
        dataset: { train: file, dev: file, tokenizer: { type: 'whitespace' } },
        model: { net: 'bow', embedding_dim: 32, hidden_size: 32, dropout: 0 },
        trainer: {
          epochs: 15,
          batch_size: 16,
          learning_rate: 0.01,
          eval_step: 1000,
          threads: 1,
          output_dir: path.join(dir, task),
        },
      },
      path.join(dir, 'c.json'),
    );
  const pair = await train(base('text_pair_classification', path.join(dir, 'pair.tsv')), {
    quiet: true,
    log: () => {},
  });
  assert.ok(pair.dev!.accuracy >= 0.95, `pair accuracy ${pair.dev!.accuracy}`);
  const multiConfig = base('multi_label_classification', path.join(dir, 'multi.tsv'));
  multiConfig.dataset.tokenizer = { type: 'char', lowercase: true };
  const multi = await train(multiConfig, { quiet: true, log: () => {} });
  assert.ok(multi.dev!.micro_f1 >= 0.95, `multi-label micro F1 ${multi.dev!.micro_f1}`);
});

test('dataset.vocab.from: the vocabulary is counted on that file, not on the training file', async () => {
  const dir = tempDir();
  const base = config(dir, 'bow', { epochs: 1 });
  const trainLines = readFileSync(base.dataset.train, 'utf8').trim().split('\n');
  const from = path.join(dir, 'vocab-source.tsv');
  writeFileSync(from, [...trainLines.slice(0, 5), '鑫淼\t正面'].join('\n') + '\n');
  const c = parseConfig(
    { ...base, dataset: { ...base.dataset, vocab: { from: 'vocab-source.tsv' } } },
    path.join(dir, 'c.json'),
  );
  assert.equal(c.dataset.vocab.from, from, 'resolved against the config folder');
  await train(c, { quiet: true, log: () => {} });
  const vocab = readFileSync(path.join(c.trainer.output_dir, 'best', 'vocab.txt'), 'utf8')
    .trim()
    .split('\n');
  const chars = (lines: string[]) => new Set(lines.flatMap((l) => [...l.split('\t')[0]]));
  const counted = chars(readFileSync(from, 'utf8').trim().split('\n'));
  assert.deepEqual(new Set(vocab.filter((t) => !/^\[[A-Z]+\]$/.test(t))), counted);
  assert.ok(vocab.includes('鑫'), 'a character of the vocab file only');
  const trainOnly = [...chars(trainLines)].filter((ch) => !counted.has(ch));
  assert.ok(
    trainOnly.length > 0 && !trainOnly.some((ch) => vocab.includes(ch)),
    'training-file characters left out',
  );
});

test('config validation names the path of each problem', () => {
  assert.throws(
    () =>
      parseConfig(
        { task: 'text_classification', dataset: { train: 'x' }, model: { net: 'rnn' }, trainer: {} },
        'c.json',
      ),
    /c\.json: model\.net: .*\n?.*c\.json: trainer\.output_dir/s,
  );
  assert.throws(
    () =>
      parseConfig(
        {
          task: 'text_classification',
          dataset: { train: 'x', bogus: 1 },
          model: { net: 'bow' },
          trainer: { output_dir: 'o' },
        },
        'c.json',
      ),
    /c\.json: dataset: .*bogus/,
  );
  assert.throws(
    () =>
      parseConfig(
        {
          task: 'text_classification',
          dataset: { train: 'x' },
          model: { net: 'bow' },
          trainer: { output_dir: 'o', batch_size: '32' },
        },
        'c.json',
      ),
    /trainer\.batch_size/,
  );
  const ok = parseConfig(
    {
      '//': 'comment',
      task: 'text_classification',
      dataset: { train: 'x' },
      model: { net: 'bow' },
      trainer: { output_dir: 'o' },
    },
    '/a/b/c.json',
  );
  assert.equal(ok.dataset.train, '/a/b/x');
  assert.equal(ok.trainer.eval_step, 100);
  assert.equal(ok.trainer.save_model_step, 1000);
});

test('trainer.eval_batch_size sizes every evaluation, the final dev and test ones included', async () => {
  const dir = tempDir();
  const c = config(dir, 'bow', { epochs: 2, eval_batch_size: 5 });
  const sizes: number[] = [];
  const evaluate = ClassificationTask.prototype.evaluate;
  ClassificationTask.prototype.evaluate = function (this: ClassificationTask, ...args) {
    sizes.push(args[3]);
    return evaluate.apply(this, args);
  };
  try {
    await train(c, { quiet: true, log: () => {} });
  } finally {
    ClassificationTask.prototype.evaluate = evaluate;
  }
  const evals = readMetricsLog(path.join(c.trainer.output_dir, 'metrics.jsonl')).filter((e) => e.type === 'eval');
  assert.equal(sizes.length, evals.length + 2, 'the periodic evaluations, then the final dev and test ones');
  assert.deepEqual([...new Set(sizes)], [5]);
});
