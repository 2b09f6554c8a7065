import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopAfterSteps } from '../../../src/train/stop-after.js';
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDataDistillConfig } from '../../../src/distill/data/data-distill-config.js';
import { ensureOnnxExport, exportIsFresh } from '../../../src/distill/data/onnx-speed.js';
import { runDataDistill } from '../../../src/distill/data/data-distillation.js';
import { trainConfigFor, trainingFinished } from '../../../src/distill/data/train-step.js';
import { train } from '../../../src/train/trainer.js';
import { parseConfig } from '../../../src/config/run-config.js';
import { Interrupted, UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { sentimentExample, tempDir, writeSentimentSplits } from '../../helpers/tiny-data.js';

const dir = tempDir('alembic-data-distill-');
after(() => rmSync(dir, { recursive: true, force: true }));

const files = writeSentimentSplits(dir, { train: 80, dev: 40, test: 60 }, 11);
const devTexts = readFileSync(files.dev, 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split('\t')[0]);
const unlabelledTexts = (() => {
  const rng = new Rng(99);
  const texts = Array.from({ length: 40 }, () => sentimentExample(rng).text);
  // A held-out text and a repeat must not reach the teacher's pool.
  return [...texts, devTexts[0], texts[0]];
})();
const unlabelled = path.join(dir, 'unlabelled.txt');
writeFileSync(unlabelled, unlabelledTexts.join('\n') + '\n');

const net = (name: string) => ({
  task: 'text_classification',
  dataset: { max_len: 32 },
  model: { net: name, embedding_dim: 16, hidden_size: 16, num_filters: 8, num_layers: 1 },
  trainer: {
    epochs: 4,
    batch_size: 16,
    learning_rate: 0.01,
    eval_step: 10,
    save_model_step: 1000,
    threads: 1,
  },
});

function config(work: string, extra: Record<string, unknown> = {}) {
  return parseDataDistillConfig(
    {
      output_dir: work,
      data: { ...files, unlabelled },
      augment: { ratio: 3, seed: 5 },
      teacher: { config: net('cnn') },
      labelling: { batch_size: 8, sync_every: 64, threads: 1 },
      students: [
        { name: 'bow', config: net('bow') },
        {
          name: 'bow_soft',
          // A student with hashed n-grams: the soft-label task encodes them like the plain one.
          config: { ...net('bow'), model: { ...net('bow').model, ngrams: 2, buckets: 64 } },
          soft_labels: { temperature: 2, alpha: 0.5 },
          gold_only: false,
        },
        { name: 'bow_aug', config: net('bow'), sources: ['augmented'], gold_only: false },
        // Only the teacher's surest labels of the unlabelled texts.
        {
          name: 'bow_sure',
          config: net('bow'),
          sources: ['unlabelled'],
          min_confidence: 0.6,
          gold_only: false,
        },
      ],
      report: { qps_examples: 20 },
      ...extra,
    },
    path.join(dir, 'dd.json'),
  );
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const quietLog = (logs: string[]) => ({ quiet: true, log: (l: string) => logs.push(l) });
const workA = path.join(dir, 'a');

test('the pipeline end to end: teacher, augment, pool, label, students, report; a rerun redoes nothing', async () => {
  const logs: string[] = [];
  const report = await runDataDistill(config(workA), quietLog(logs));
  const at = (p: string) => path.join(workA, p);
  for (const p of [
    'teacher/best',
    'student/bow/gold_only/best',
    'student/bow/distilled/best',
    'student/bow_soft/distilled/best',
  ]) {
    assert.ok(existsSync(path.join(at(p), 'alembic-model.json')), p);
  }
  assert.ok(!existsSync(at('student/bow_soft/gold_only')), 'gold_only: false trains no baseline');
  const soft = JSON.parse(readFileSync(at('student/bow_soft/distilled/best/alembic-model.json'), 'utf8'));
  assert.deepEqual([soft.config.model.ngrams, soft.config.model.buckets], [2, 64]);
  assert.equal(readFileSync(at('student/train/part.0'), 'utf8'), readFileSync(files.train, 'utf8'));

  // The pool: augmented lines, then the unlabelled ones without the dev text and the repeat.
  const pool = lines(at('student/unsup_train_aug'));
  assert.equal(report.data.pool.goldDropped, 1);
  assert.ok(report.data.pool.duplicatesDropped >= 1);
  assert.ok(!pool.includes(devTexts[0]));
  assert.equal(new Set(pool).size, pool.length);
  assert.equal(report.data.pool.bySource.augmented, report.data.augmented!.written);
  assert.equal(pool.length, report.data.pool.lines);

  // part.1: every pool line once, in order, with the teacher's label and probabilities (a soft student asked for them).
  const part1 = lines(at('student/train/part.1')).map((l) => l.split('\t'));
  assert.deepEqual(
    part1.map((f) => f[0]),
    pool,
  );
  for (const f of part1) {
    assert.ok(['正面', '负面'].includes(f[1]), f.join('|'));
    const p = f[2].split(' ').map(Number);
    assert.equal(p.length, 2);
    assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-5);
    // The label is the most probable class (label map order: 正面, 负面).
    assert.equal(f[1], p[0] >= p[1] ? '正面' : '负面');
  }
  // The hard-label training file: part.0 + part.1 without the probabilities.
  const hard = lines(at('student/train/all.tsv'));
  assert.equal(hard.length, 80 + pool.length);
  assert.ok(hard.every((l) => l.split('\t').length === 2));
  // A student on the augmented texts only: part.0 + the pool's first (augmented) lines.
  const augmentedOnly = lines(at('student/train/augmented.tsv'));
  assert.deepEqual(augmentedOnly, hard.slice(0, 80 + report.data.augmented!.written));
  assert.ok(augmentedOnly.length < hard.length);
  // Vocabularies are counted on distinct texts, never on augmented copies: the augmented-only student's
  // is the gold-only student's (same counts, same order); the others' on gold + unlabelled.
  const vocab = (run: string) => readFileSync(at(`student/${run}/best/vocab.txt`), 'utf8');
  assert.equal(vocab('bow_aug/distilled'), vocab('bow/gold_only'));
  assert.notEqual(vocab('bow/distilled'), vocab('bow/gold_only'));
  assert.deepEqual(lines(at('student/train/unlabelled.tsv')), [
    ...hard.slice(0, 80),
    ...hard.slice(80 + report.data.augmented!.written),
  ]);
  const vocabFrom = (run: string) =>
    JSON.parse(readFileSync(at(`student/${run}/config.json`), 'utf8')).dataset.vocab.from;
  assert.equal(vocabFrom('bow/distilled'), at('student/train/unlabelled.tsv'));
  assert.equal(vocabFrom('bow_soft/distilled'), at('student/train/unlabelled.tsv'));
  assert.equal(vocabFrom('bow_aug/distilled'), at('student/train/part.0'));

  // The surest student's file: part.0 + exactly the unlabelled lines whose top probability is ≥ 0.6.
  const unlabelledPart1 = part1.slice(report.data.augmented!.written);
  const sure = unlabelledPart1.filter((f) => Math.max(...f[2].split(' ').map(Number)) >= 0.6);
  assert.deepEqual(lines(at('student/train/unlabelled.min-0.6.tsv')), [
    ...hard.slice(0, 80),
    ...sure.map((f) => `${f[0]}\t${f[1]}`),
  ]);
  assert.ok(
    logs.includes(
      `unlabelled.min-0.6.tsv: ${sure.length} of ${unlabelledPart1.length} teacher labels have confidence ≥ 0.6`,
    ),
  );

  assert.deepEqual(
    report.rows.map((r) => [r.model, r.measurement.net]),
    [
      ['teacher', 'cnn'],
      ['bow (gold only)', 'bow'],
      ['bow (distilled)', 'bow'],
      ['bow_soft (distilled)', 'bow'],
      ['bow_aug (distilled)', 'bow'],
      ['bow_sure (distilled)', 'bow'],
    ],
  );
  // Speed in both runtimes: libtorch on the model directory, onnxruntime on its fp32 export under onnx/.
  assert.deepEqual(report.rows[0].speedup, { libtorch: 1, onnx: 1 });
  const teacherSpeed = report.rows[0].measurement.speed;
  for (const r of report.rows) {
    const m = r.measurement;
    assert.ok(m.metrics.accuracy >= 0 && m.metrics.accuracy <= 1);
    for (const rt of ['libtorch', 'onnx'] as const) {
      assert.ok(m.speed[rt].qps > 0 && Number.isFinite(m.speed[rt].qps), `${r.model} ${rt}`);
      assert.ok(Math.abs(m.speed[rt].latencyMs * m.speed[rt].qps - 1000) < 1e-6);
      assert.ok(Math.abs(r.speedup[rt] - m.speed[rt].qps / teacherSpeed[rt].qps) < 1e-9);
    }
    const exported = JSON.parse(readFileSync(path.join(m.onnxDir, 'alembic-model.json'), 'utf8'));
    assert.equal(exported.onnx.int8, false, 'timed as fp32');
    assert.ok(existsSync(path.join(m.onnxDir, exported.onnx.file)));
    assert.ok(exportIsFresh(m.modelDir, m.onnxDir));
  }
  assert.deepEqual(
    report.rows.map((r) => path.relative(workA, r.measurement.onnxDir)),
    [
      'teacher',
      'bow-gold_only',
      'bow-distilled',
      'bow_soft-distilled',
      'bow_aug-distilled',
      'bow_sure-distilled',
    ].map((n) => path.join('onnx', n)),
  );
  // The libtorch and the onnxruntime speed differ (separate timings, not one number copied).
  assert.ok(report.rows.some((r) => r.measurement.speed.libtorch.qps !== r.measurement.speed.onnx.qps));
  assert.equal(report.evaluatedOn.split, 'test');
  assert.equal(report.gains.length, 1);
  const gain = report.gains[0];
  assert.ok(
    Math.abs(
      gain.accuracy -
        (report.rows[2].measurement.metrics.accuracy - report.rows[1].measurement.metrics.accuracy),
    ) < 1e-12,
  );
  assert.deepEqual(
    report.rows.map((r) => r.trainedOn),
    [
      'gold',
      'gold',
      'gold + augmented + unlabelled',
      'gold + augmented + unlabelled',
      'gold + augmented',
      "gold + unlabelled (teacher's confidence ≥ 0.6)",
    ],
  );
  assert.deepEqual(JSON.parse(readFileSync(at('report.json'), 'utf8')).rows.length, 6);
  const text = readFileSync(at('report.txt'), 'utf8');
  assert.match(text, /bow \(distilled\)/);
  assert.match(text, /QPS libtorch +QPS onnx +speed-up libtorch +speed-up onnx/);
  // Each row: accuracy, macro F1, then two QPS and two speed-ups (the teacher's are 1.0×).
  assert.match(text, /\nteacher .* [\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +1\.0× +1\.0×\n/);

  // Run again: every step is found done; nothing is trained, labelled or measured.
  const again: string[] = [];
  const second = await runDataDistill(config(workA), quietLog(again));
  for (const step of [
    'teacher',
    'augment',
    'pool',
    'label',
    'student-bow-gold_only',
    'student-bow-distilled',
    'report',
  ]) {
    assert.ok(again.includes(`step ${step}: done already`), step);
  }
  assert.ok(!again.some((l) => /^alembic: text_classification/.test(l)), 'nothing was trained again');
  assert.deepEqual(second.rows, JSON.parse(JSON.stringify(report.rows)));

  // An export older than its model is made again; a newer one is reused.
  const teacherRow = report.rows[0].measurement;
  assert.deepEqual(await ensureOnnxExport(teacherRow.modelDir, teacherRow.onnxDir), { reused: true });
  const later = new Date(Date.now() + 60_000);
  utimesSync(path.join(teacherRow.modelDir, 'model.safetensors'), later, later);
  assert.equal(exportIsFresh(teacherRow.modelDir, teacherRow.onnxDir), false);
  assert.deepEqual(await ensureOnnxExport(teacherRow.modelDir, teacherRow.onnxDir), { reused: false });
  assert.equal(exportIsFresh(teacherRow.modelDir, teacherRow.onnxDir), false, 'still older than the model');
  const earlier = new Date(Date.now() - 60_000);
  utimesSync(path.join(teacherRow.modelDir, 'model.safetensors'), earlier, earlier);
  assert.equal(exportIsFresh(teacherRow.modelDir, teacherRow.onnxDir), true);

  // The soft student's training (teacher-labelled pool with probabilities, vocabulary counted on gold +
  // unlabelled texts) streamed instead of read into memory: the same student, byte for byte.
  const softRun = at('student/bow_soft/distilled');
  const used = JSON.parse(readFileSync(path.join(softRun, 'config.json'), 'utf8')) as {
    dataset: Record<string, unknown>;
    trainer: Record<string, unknown>;
  };
  used.dataset.streaming = true;
  used.trainer.output_dir = path.join(dir, 'soft-streamed');
  const streamedLog: string[] = [];
  await train(parseConfig(used, path.join(softRun, 'config.json')), quietLog(streamedLog));
  assert.ok(streamedLog.some((l) => /streamed a batch at a time/.test(l)));
  assert.ok(
    readFileSync(path.join(dir, 'soft-streamed', 'best', 'model.safetensors')).equals(
      readFileSync(path.join(softRun, 'best', 'model.safetensors')),
    ),
    'the streamed soft student differs from the in-memory one',
  );
});

test('labelling interrupted by the signal continues on the next run, giving the same part.1', async () => {
  const workB = path.join(dir, 'b');
  const c = config(workB, {
    teacher: { model_dir: path.join(workA, 'teacher', 'best') },
    // A confidence threshold alone has the teacher write its probabilities, as in workA's part.1.
    students: [{ name: 'bow', config: net('bow'), min_confidence: 0.5, gold_only: false }],
  });
  const stop = new AbortController();
  const logs: string[] = [];
  await assert.rejects(
    runDataDistill(c, {
      quiet: true,
      signal: stop.signal,
      // Abort as labelling starts: it stops after its first batch.
      log: (l) => {
        logs.push(l);
        if (l.startsWith('label: the teacher labels')) stop.abort();
      },
    }),
    (e: unknown) => e instanceof Interrupted && /label step/.test(e.message),
  );
  assert.equal(lines(path.join(workB, 'student/train/part.1')).length, 8);

  // A stop asked for between steps: the next step does not start.
  const early = new AbortController();
  early.abort();
  await assert.rejects(
    runDataDistill(c, { quiet: true, signal: early.signal, log: () => {} }),
    (e: unknown) => e instanceof Interrupted && /augment step/.test(e.message),
  );

  const resumed: string[] = [];
  await runDataDistill(c, quietLog(resumed));
  assert.ok(
    resumed.includes(
      'labelling: resuming at line 9 of ' + lines(path.join(workB, 'student/unsup_train_aug')).length,
    ),
  );
  assert.equal(
    readFileSync(path.join(workB, 'student/train/part.1'), 'utf8'),
    readFileSync(path.join(workA, 'student/train/part.1'), 'utf8'),
  );
});

test('an interrupted training run is not mistaken for a finished one', async () => {
  const c = trainConfigFor(
    { raw: net('bow'), source: 'inline', baseDir: dir },
    { train: files.train, dev: files.dev, outputDir: path.join(dir, 'interrupted') },
  );
  await train(c, { quiet: true, log: () => {}, ...stopAfterSteps(3) });
  assert.equal(trainingFinished(c.trainer.output_dir), false);
  await train(c, { quiet: true, log: () => {}, resume: true });
  assert.equal(trainingFinished(c.trainer.output_dir), true);
});

test("config errors are the user's: nothing to label, a missing teacher, no evaluation file", async () => {
  assert.throws(
    () =>
      parseDataDistillConfig(
        {
          output_dir: 'w',
          data: { train: files.train },
          teacher: { config: net('cnn') },
          students: [{ name: 's', config: net('bow') }],
        },
        path.join(dir, 'x.json'),
      ),
    (e: unknown) => e instanceof UserError && /nothing for the teacher to label/.test(e.message),
  );
  assert.throws(
    () => config(path.join(dir, 'c'), { students: [{ name: 's', config: 'missing.json' }] }),
    (e: unknown) => e instanceof UserError && /missing\.json: cannot read the config file/.test(e.message),
  );
  assert.throws(
    () =>
      parseDataDistillConfig(
        {
          output_dir: 'w',
          data: { train: files.train },
          augment: {},
          teacher: { config: net('cnn') },
          students: [{ name: 's', config: net('bow'), sources: ['unlabelled'] }],
        },
        path.join(dir, 'z.json'),
      ),
    (e: unknown) =>
      e instanceof UserError &&
      /z\.json: students\.0\.sources: "unlabelled", but data\.unlabelled is not given/.test(e.message),
  );
  for (const bad of [0, 1.5]) {
    assert.throws(
      () =>
        config(path.join(dir, 'e'), { students: [{ name: 's', config: net('bow'), min_confidence: bad }] }),
      (e: unknown) => e instanceof UserError && /dd\.json: students\.0\.min_confidence: /.test(e.message),
    );
  }
  const noEval = parseDataDistillConfig(
    {
      output_dir: path.join(dir, 'd'),
      data: { train: files.train, unlabelled },
      teacher: { model_dir: path.join(dir, 'nowhere') },
      students: [{ name: 's', config: net('bow') }],
    },
    path.join(dir, 'y.json'),
  );
  await assert.rejects(runDataDistill(noEval, quietLog([])), /give a test \(or dev\) file/);
});
