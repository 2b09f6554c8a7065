import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  SoftLabelClassificationTask,
  SoftLabelClassifier,
  type SoftExample,
} from '../../../src/distill/data/soft-label-task.js';
import { tempered } from '../../../src/distill/soft-label-loss.js';
import { ClassificationTask, ClassifierModel } from '../../../src/tasks/classification.js';
import { createTask } from '../../../src/tasks/registry.js';
import { parseConfig, type TrainConfig } from '../../../src/config/run-config.js';
import { loadModelDir } from '../../../src/train/model-dir.js';
import { train } from '../../../src/train/trainer.js';
import { InputError } from '../../../src/util/errors.js';
import { tempDir, writeSentimentSplits } from '../../helpers/tiny-data.js';

const dir = tempDir('alembic-soft-');
after(() => rmSync(dir, { recursive: true, force: true }));

function config(trainFile: string, soft: Record<string, number> | undefined, extra = {}): TrainConfig {
  return parseConfig(
    {
      task: 'text_classification',
      dataset: { train: trainFile, max_len: 16 },
      model: { net: 'bow', embedding_dim: 8, dropout: 0 },
      trainer: { epochs: 3, batch_size: 8, threads: 1, output_dir: path.join(dir, 'run'), ...extra },
      ...(soft ? { soft_labels: soft } : {}),
    },
    path.join(dir, 'config.json'),
  );
}

function file(name: string, lines: string[]): string {
  const p = path.join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

test('tempered: softmax(log q / T), hand-computed', () => {
  // T = 2: √0.8 : √0.2 = 2 : 1.
  const t = tempered([0.8, 0.2], 2);
  assert.ok(Math.abs(t[0] - 2 / 3) < 1e-12 && Math.abs(t[1] - 1 / 3) < 1e-12, String(t));
  assert.deepEqual(tempered([0.25, 0.75], 1), [0.25, 0.75]);
  // T = 0.5 sharpens: 0.5² : 0.25² : 0.25² = 4 : 1 : 1.
  const s = tempered([0.5, 0.25, 0.25], 0.5);
  assert.ok(Math.abs(s[0] - 4 / 6) < 1e-12 && Math.abs(s[1] - 1 / 6) < 1e-12);
});

test('the registry trains with soft labels and restores a plain classifier', async () => {
  const f = file('mixed.tsv', ['好\t正面', '坏\t负面', '很好\t正面\t0.1 0.9', '很坏\t负面\t0.75 0.25']);
  const c = config(f, { temperature: 2, alpha: 0.5 });
  assert.ok(createTask(c) instanceof SoftLabelClassificationTask);
  const plain = createTask({ ...c, soft_labels: undefined });
  assert.ok(!(plain instanceof SoftLabelClassificationTask) && plain instanceof ClassificationTask);

  const task = createTask(c) as SoftLabelClassificationTask;
  const examples = (await task.read(f, { labelled: true })) as SoftExample[];
  assert.deepEqual(
    examples.map((e) => [e.text, e.label, e.soft]),
    [
      ['好', '正面', undefined],
      ['坏', '负面', undefined],
      ['很好', '正面', [0.1, 0.9]],
      ['很坏', '负面', [0.75, 0.25]],
    ],
  );
  task.fit(examples);
  // Labels sort as 正面 < 负面 (code points), so the probability columns are in that order.
  assert.deepEqual(task.labels.names, ['正面', '负面']);
  assert.deepEqual(task.encode(examples[2]).soft, [0.1, 0.9]);
});

test('the loss: CE for gold lines; α·T²·KL + (1−α)·CE for teacher lines (checked against the logits)', async () => {
  const f = file('loss.tsv', ['好\t正面', '很好\t正面\t0.6 0.4', '坏坏\t负面\t0.2 0.8']);
  const alpha = 0.3;
  const T = 2;
  const task = createTask(config(f, { temperature: T, alpha })) as SoftLabelClassificationTask;
  const examples = await task.read(f, { labelled: true });
  task.fit(examples);
  const model = task.buildModel();
  assert.ok(model instanceof SoftLabelClassifier && model instanceof ClassifierModel);
  model.eval();
  const features = examples.map((e) => task.encode(e));
  const logits = model.logits(features).toArray();
  const got = model.loss(features).item();

  const row = (i: number) => logits.slice(2 * i, 2 * i + 2);
  const logSoftmax = (z: number[]) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    return z.map((v) => v - lse);
  };
  const ce = (i: number, label: number) => -logSoftmax(row(i))[label];
  const kl = (i: number, q: number[]) => {
    const qt = tempered(q, T);
    const ls = logSoftmax(row(i).map((v) => v / T));
    return qt.reduce((s, p, j) => s + p * (Math.log(p) - ls[j]), 0);
  };
  // Label ids: 正面 0, 负面 1.
  const expected =
    (ce(0, 0) +
      (1 - alpha) * ce(1, 0) +
      alpha * T * T * kl(1, [0.6, 0.4]) +
      (1 - alpha) * ce(2, 1) +
      alpha * T * T * kl(2, [0.2, 0.8])) /
    3;
  assert.ok(Math.abs(got - expected) < 1e-5, `loss ${got}, expected ${expected}`);
});

test('probabilities that do not fit the label map are input errors naming file and line', async () => {
  const f = file('bad.tsv', ['好\t正面', '坏\t负面\t0.2 0.3 0.5']);
  const task = createTask(config(f, { temperature: 1, alpha: 1 })) as SoftLabelClassificationTask;
  const examples = await task.read(f, { labelled: true });
  // Found while fitting, before any example is encoded (a streamed file's pass finds it there too).
  assert.throws(
    () => task.fit(examples),
    (e: unknown) =>
      e instanceof InputError && /bad\.tsv:2: probabilities: 3 probabilities for 2 labels/.test(e.message),
  );
  const g = file('bad2.tsv', ['好\t正面\t0.5 x']);
  await assert.rejects(
    task.read(g, { labelled: true }),
    (e: unknown) =>
      e instanceof InputError && /bad2\.tsv:1: probabilities: "x" is not a probability/.test(e.message),
  );
});

test('a student trained with soft labels learns, and its model directory is a plain classifier', async () => {
  const files = writeSentimentSplits(dir, { train: 240, dev: 40, test: 40 }, 5);
  // The gold lines, plus each one again with a confident "teacher" distribution (正面 is id 0).
  const gold = (await import('node:fs')).readFileSync(files.train, 'utf8').trim().split('\n');
  const withTeacher = gold.map((l) => `${l}\t${l.endsWith('正面') ? '0.9 0.1' : '0.1 0.9'}`);
  const f = file('distilled.tsv', [...gold, ...withTeacher]);
  const c = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: f, dev: files.dev, test: files.test, max_len: 32 },
      model: { net: 'bow', embedding_dim: 16 },
      trainer: {
        epochs: 8,
        batch_size: 16,
        learning_rate: 0.01,
        eval_step: 20,
        threads: 1,
        output_dir: path.join(dir, 'soft-run'),
      },
      soft_labels: { temperature: 2, alpha: 0.7 },
    },
    path.join(dir, 'c.json'),
  );
  const summary = await train(c, { quiet: true, log: () => {} });
  assert.ok(summary.test!.accuracy >= 0.9, `test accuracy ${summary.test!.accuracy}`);
  const m = loadModelDir(path.join(c.trainer.output_dir, 'best'));
  assert.ok(m.task instanceof ClassificationTask && !(m.task instanceof SoftLabelClassificationTask));
  // The soft-label model has exactly the plain classifier's parameters.
  const softTask = createTask(c) as SoftLabelClassificationTask;
  softTask.fit(await softTask.read(f, { labelled: true }));
  const softModel = softTask.buildModel();
  assert.deepEqual([...softModel.stateDict().keys()].sort(), [...m.model.stateDict().keys()].sort());
  softModel.dispose();
  m.model.dispose();
});
