import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopAfterSteps } from '../../../src/train/stop-after.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadDistillConfig, parseDistillConfig } from '../../../src/distill/model/model-distill-config.js';
import { distill } from '../../../src/distill/model/model-distillation.js';
import type { DistillReport } from '../../../src/distill/model/model-distill-report.js';
import { loadModelDir } from '../../../src/train/model-dir.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { sentimentExample, tempDir, writeSentimentSplits } from '../../helpers/tiny-data.js';

function distillConfig(dir: string, extra: Record<string, unknown> = {}) {
  writeSentimentSplits(dir, { train: 240, dev: 60, test: 60 });
  const rng = new Rng(9);
  const general = path.join(dir, 'general.txt');
  writeFileSync(general, Array.from({ length: 120 }, () => sentimentExample(rng).text).join('\n') + '\n');
  return parseDistillConfig(
    {
      '//': 'a tiny end-to-end run',
      task: 'text_classification',
      dataset: { train: 'train.tsv', dev: 'dev.tsv', test: 'test.tsv', max_len: 24 },
      general_data: 'general.txt',
      teacher: { model: { net: 'transformer', num_layers: 2, hidden_size: 32, num_heads: 4, ffn_size: 64 } },
      student: { layers: 1, hidden: 16, heads: 2, ffn: 32 },
      stages: ['FT', 'GED', 'TD1', 'TD2'],
      relation: { heads: 4 },
      prediction: { temperature: 2 },
      trainer: {
        epochs: 5,
        batch_size: 16,
        learning_rate: 0.003,
        threads: 1,
        eval_step: 15,
        train_log_step: 5,
      },
      stage_trainer: { GED: { epochs: 1 }, TD1: { epochs: 2 } },
      compare: { timing_examples: 8, batch_sizes: [1, 8] },
      output_dir: 'out',
      ...extra,
    },
    path.join(dir, 'distill.json'),
  );
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

test('all four stages end to end: interrupted, continued, then skipped; the student is a normal model', async () => {
  const dir = tempDir();
  const config = distillConfig(dir);
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);

  const first = await distill(config, { quiet: true, log, ...stopAfterSteps(4) });
  assert.equal(first.interrupted, 'FT');
  assert.equal(first.report, undefined);

  lines.length = 0;
  const second = await distill(config, { quiet: true, log });
  assert.equal(second.interrupted, undefined);
  assert.ok(
    lines.some((l) => /^FT: continuing from the last checkpoint/.test(l)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => /starts from random weights/.test(l)),
    'the random-student warning',
  );
  assert.ok(
    lines.some((l) =>
      /^teacher relation entropy \/ uniform, by layer: 1: 0\.\d+, 2: 0\.\d+ \(distilling layer 2\)/.test(l),
    ),
  );
  assert.deepEqual(
    second.stages.map((s) => [s.stage, s.skipped]),
    [
      ['FT', false],
      ['GED', false],
      ['TD1', false],
      ['TD2', false],
      ['alone', false],
    ],
  );
  // GED and TD1 pick their best student on the dev relation loss; TD2 on the task metric.
  assert.ok(second.stages[1].dev!.distill_loss >= 0);
  assert.ok('macro_f1' in second.stages[3].dev!);

  const out = config.output_dir;
  const report = JSON.parse(readFileSync(path.join(out, 'distill_report.json'), 'utf8')) as DistillReport;
  assert.deepEqual(
    report.models.map((m) => m.role),
    ['teacher', 'student_alone', 'student'],
  );
  assert.equal(report.evaluated_on, 'test');
  assert.equal(report.metric, 'accuracy');
  const [teacher, , student] = report.models;
  assert.ok(teacher.parameters > student.parameters);
  assert.deepEqual(
    student.speed.map((s) => s.batch_size),
    [1, 8],
  );
  assert.ok(student.speed.every((s) => s.latency_ms > 0 && s.qps > 0));
  assert.ok(teacher.metrics.accuracy >= 0.9, `teacher accuracy ${teacher.metrics.accuracy}`);
  assert.ok(student.metrics.accuracy >= 0.8, `student accuracy ${student.metrics.accuracy}`);
  assert.equal(report.comparison.retained, student.metrics.accuracy / teacher.metrics.accuracy);
  assert.match(readFileSync(path.join(out, 'distill_report.html'), 'utf8'), /distilled student/);

  // output_dir/student is a normal model directory with the student's shape.
  const m = loadModelDir(path.join(out, 'student'));
  assert.equal(m.config.model.num_layers, 1);
  assert.equal(m.config.model.hidden_size, 16);
  assert.deepEqual((m.manifest.info as { distilled: { stages: string[] } }).distilled.stages, [
    'FT',
    'GED',
    'TD1',
    'TD2',
  ]);
  const preds = m.task.predict(m.model, [
    m.task.encode({ text: '这个酒店很棒' }),
    m.task.encode({ text: '房间很差' }),
  ]);
  assert.equal(preds.length, 2);
  m.model.dispose();

  // A third run has nothing left to train; the teacher's files are untouched by the student stages.
  const teacherWeights = path.join(out, 'teacher', 'best', 'model.safetensors');
  const before = sha(teacherWeights);
  lines.length = 0;
  const third = await distill(config, { quiet: true, log });
  assert.ok(third.stages.every((s) => s.skipped));
  assert.equal(lines.filter((l) => /not run again/.test(l)).length, 5);
  assert.equal(sha(teacherWeights), before);

  // Changing TD2's temperature re-runs TD2 only (and keeps the stages before it).
  const changed = parseDistillConfig(
    {
      ...(config.raw as object),
      prediction: { temperature: 1 },
      stage_trainer: { GED: { epochs: 1 }, TD1: { epochs: 2 } },
    },
    path.join(dir, 'distill.json'),
  );
  lines.length = 0;
  const fourth = await distill(changed, { quiet: true, log });
  assert.deepEqual(
    fourth.stages.filter((s) => !s.skipped).map((s) => s.stage),
    ['TD2'],
  );
  assert.ok(existsSync(path.join(out, 'student', 'alembic-model.json')));

  // Thread counts change speed, not results: no stage runs again for them.
  const raw = changed.raw as { trainer: Record<string, unknown> };
  const threads = parseDistillConfig(
    { ...raw, trainer: { ...raw.trainer, threads: 2 } },
    path.join(dir, 'distill.json'),
  );
  const fifth = await distill(threads, { quiet: true, log });
  assert.ok(fifth.stages.every((s) => s.skipped));
});

test('config mistakes are reported with their place', () => {
  const dir = tempDir();
  const bad = (extra: Record<string, unknown>) => () => distillConfig(dir, extra);
  assert.throws(
    bad({ stages: ['TD2', 'TD1'] }),
    (e: Error) => e instanceof UserError && /stages: run in the order/.test(e.message),
  );
  assert.throws(bad({ stages: ['FT', 'TD1'] }), /TD2 is needed/);
  assert.throws(
    bad({ stages: ['FT', 'GED', 'TD2'], general_data: undefined }),
    /general_data: the GED stage needs/,
  );
  assert.throws(bad({ stage_trainer: { TD1: { epochs: 0 } } }), /stage_trainer\.TD1\.epochs/);
  assert.throws(bad({ teacher: { model: { net: 'cnn' } } }), /needs a Transformer teacher/);
  assert.throws(
    bad({ teacher: { model: { net: 'transformer', num_layers: 'six' } } }),
    /teacher\.model\.num_layers/,
  );
  assert.throws(bad({ student: { layers: 2 } }), /student\.hidden: required/);
  assert.equal(distillConfig(dir, { relation: { teacher_layer: 'auto' } }).relation.teacher_layer, 'auto');
  assert.throws(bad({ relation: { teacher_layer: 'first' } }), /relation\.teacher_layer/);
  // Distillation reads its training file into memory: asking for a stream is told so in one line.
  assert.throws(
    bad({ dataset: { train: 'train.tsv', streaming: true } }),
    (e: Error) =>
      e instanceof UserError &&
      /distill\.json: dataset\.streaming: model distillation reads its training file into memory/.test(
        e.message,
      ) &&
      !e.message.includes('\n'),
  );
});

test('the example configs are valid', () => {
  for (const name of ['sentiment-zh.json', 'from-finetuned-teacher.json']) {
    const file = path.join(import.meta.dirname, '..', '..', '..', 'examples', 'distill', name);
    const c = loadDistillConfig(file);
    assert.ok(c.stages.includes('TD2'), name);
    assert.ok(path.isAbsolute(c.output_dir));
  }
});
