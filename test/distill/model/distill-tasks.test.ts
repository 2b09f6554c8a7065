import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tidy } from '../../../src/engine/scope.js';
import { distillAdapter } from '../../../src/distill/model/adapter.js';
import { parseDistillConfig } from '../../../src/distill/model/model-distill-config.js';
import { PredictionObjective } from '../../../src/distill/model/objective.js';
import { distill } from '../../../src/distill/model/model-distillation.js';
import { loadModelDir } from '../../../src/train/model-dir.js';
import { Rng } from '../../../src/util/rng.js';
import { sentimentExample, tempDir } from '../../helpers/tiny-data.js';

const TEACHER = { net: 'transformer', num_layers: 2, hidden_size: 16, num_heads: 2, ffn_size: 32 };
const STUDENT = { layers: 1, hidden: 8, heads: 2, ffn: 16 };
const TRAINER = { epochs: 2, batch_size: 16, learning_rate: 0.005, threads: 1, eval_step: 1000 };

function write(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function run(
  dir: string,
  task: string,
  dataset: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const config = parseDistillConfig(
    {
      task,
      dataset: { max_len: 24, ...dataset },
      teacher: { model: TEACHER },
      student: STUDENT,
      stages: ['FT', 'TD1', 'TD2'],
      trainer: TRAINER,
      compare: { student_alone: false, timing_examples: 4, batch_sizes: [1] },
      output_dir: 'out',
      ...extra,
    },
    path.join(dir, 'distill.json'),
  );
  const result = await distill(config, { quiet: true, log: () => {} });
  return { result, student: loadModelDir(result.studentDir!) };
}

test('text pairs: distilled end to end, pairs read with segment ids', async () => {
  const dir = tempDir();
  const rng = new Rng(4);
  const lines = (n: number) =>
    Array.from({ length: n }, () => {
      const a = sentimentExample(rng);
      const b = sentimentExample(rng);
      return `${a.text}\t${b.text}\t${a.label === b.label ? 'same' : 'different'}`;
    });
  const { result, student } = await run(dir, 'text_pair_classification', {
    train: write(dir, 'train.tsv', lines(80)),
    dev: write(dir, 'dev.tsv', lines(20)),
  });
  assert.equal(result.report!.evaluated_on, 'dev');
  assert.equal(student.config.task, 'text_pair_classification');
  const f = student.task.encode({ text: '很好', textB: '很差' });
  assert.ok(f.a.typeIds.includes(1), 'the pair is one input with segment ids');
  assert.equal(student.task.predict(student.model, [f])[0].labels.length, 1);
  student.model.dispose();
});

test('multi-label: soft labels are per-label sigmoids; distilled end to end', async () => {
  const dir = tempDir();
  const rng = new Rng(5);
  const lines = (n: number) =>
    Array.from({ length: n }, () => {
      const e = sentimentExample(rng);
      const tags = [e.label, ...(e.text.includes('房间') ? ['房间'] : [])];
      return `${e.text}\t${tags.join(' ')}`;
    });
  const { result, student } = await run(dir, 'multi_label_classification', {
    train: write(dir, 'train.tsv', lines(80)),
    dev: write(dir, 'dev.tsv', lines(20)),
  });
  assert.equal(result.report!.metric, 'micro_f1');
  const adapter = distillAdapter(student.task);
  assert.equal(adapter.multiLabel, true);
  // The student against itself as teacher: the soft loss is at its minimum, the mean binary entropy.
  const objective = new PredictionObjective(student.model, student.model, adapter, {
    temperature: 1,
    soft_weight: 1,
    hard_weight: 0,
  });
  const batch = [student.task.encode({ text: '房间很好' })];
  tidy(() => {
    const p = adapter.forward(student.model, batch).logits.sigmoid().toArray();
    const entropy =
      p.reduce((s: number, q: number) => s - q * Math.log(q) - (1 - q) * Math.log(1 - q), 0) / p.length;
    const soft = objective.parts(batch).soft.item();
    assert.ok(Math.abs(soft - entropy) < 1e-4, `${soft} vs ${entropy}`);
  });
  student.model.dispose();
});

// A tiny NER task: city names in random filler characters.
const CITIES = ['北京', '上海', '厦门', '广州', '深圳', '杭州'];
const FILLER = [...'海钓比赛地点在我们去了的是很好天气今明年月日来到看见朋友'];

function nerLine(rng: Rng, labelled = true): string {
  const tokens: string[] = [];
  const tags: string[] = [];
  const filler = (n: number) => {
    for (let i = 0; i < n; i++) {
      tokens.push(FILLER[rng.int(FILLER.length)]);
      tags.push('O');
    }
  };
  filler(1 + rng.int(4));
  [...CITIES[rng.int(CITIES.length)]].forEach((ch, i) => {
    tokens.push(ch);
    tags.push(i === 0 ? 'B-LOC' : 'I-LOC');
  });
  filler(1 + rng.int(3));
  return labelled ? `${tokens.join(' ')}\t${tags.join(' ')}` : tokens.join('');
}

test('sequence labelling: token-level soft labels, all four stages, the student tags cities', async () => {
  const dir = tempDir();
  const rng = new Rng(6);
  const lines = (n: number) => Array.from({ length: n }, () => nerLine(rng));
  const { result, student } = await run(
    dir,
    'sequence_labeling',
    {
      train: write(dir, 'train.tsv', lines(120)),
      dev: write(dir, 'dev.tsv', lines(30)),
      test: write(dir, 'test.tsv', lines(30)),
    },
    {
      stages: ['FT', 'GED', 'TD1', 'TD2'],
      general_data: write(
        dir,
        'general.txt',
        Array.from({ length: 60 }, () => nerLine(rng, false)),
      ),
      trainer: { ...TRAINER, epochs: 6 },
      stage_trainer: { GED: { epochs: 1 }, TD1: { epochs: 1 } },
    },
  );
  const adapter = distillAdapter(student.task);
  assert.equal(adapter.rowPerExample, false);
  const features = [
    student.task.encode({ tokens: [...'我们去了北京'] }),
    student.task.encode({ tokens: [...'上海'] }),
  ];
  tidy(() => {
    const out = adapter.forward(student.model, features);
    // One row per token (6 and 2, the shorter sentence padded to 6), padding rows masked out.
    assert.deepEqual(out.logits.shape.slice(0, 1), [12]);
    assert.deepEqual(out.rowMask!.toArray(), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  });
  assert.equal(result.report!.metric, 'accuracy');
  const teacher = result.report!.models.find((m) => m.role === 'teacher')!;
  const distilled = result.report!.models.find((m) => m.role === 'student')!;
  assert.ok('f1' in distilled.metrics);
  assert.ok(teacher.metrics.accuracy > 0.8, `teacher token accuracy ${teacher.metrics.accuracy}`);
  assert.ok(distilled.metrics.accuracy > 0.7, `student token accuracy ${distilled.metrics.accuracy}`);
  student.model.dispose();
});
