/**
 * The API verbs: train() quiet by default with typed progress events; an AbortSignal stops it at a step
 * boundary with a checkpoint written, and `resume: true` continues to the same end; evaluate(), exportModel()
 * and advise() do the CLI's work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { advise, evaluate, exportModel, pipeline, train, type TrainEvent } from '../../src/index.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

test('train: events, abort at a step with a checkpoint, resume to the end; then evaluate, export, predict', async () => {
  const dir = tempDir('alembic-api-train-');
  const files = writeSentimentSplits(dir, { train: 200, dev: 40, test: 40 });
  const config = {
    task: 'text_classification',
    dataset: { train: 'train.tsv', dev: 'dev.tsv' },
    model: { net: 'bow', embedding_dim: 32, hidden_size: 32 },
    trainer: {
      epochs: 6,
      batch_size: 16,
      learning_rate: 0.01,
      eval_step: 20,
      save_model_step: 1000,
      threads: 1,
      output_dir: 'run',
    },
  };
  const out = path.join(dir, 'run');
  const stderr = process.stderr.write;
  let written = '';
  process.stderr.write = ((s: string) => ((written += s), true)) as typeof process.stderr.write;
  const events: TrainEvent[] = [];
  const stop = new AbortController();
  let first;
  try {
    first = await train(
      { config, baseDir: dir },
      {
        signal: stop.signal,
        onProgress: (e) => {
          events.push(e);
          if (e.type === 'step' && e.step === 7) stop.abort();
        },
      },
    );
  } finally {
    process.stderr.write = stderr;
  }
  assert.equal(written, '', 'the API is quiet by default');
  assert.equal(first.interrupted, true);
  assert.equal(first.steps, 7);
  const steps = events.filter((e) => e.type === 'step');
  assert.deepEqual(
    steps.map((e) => e.step),
    [1, 2, 3, 4, 5, 6, 7],
  );
  for (const e of steps)
    assert.ok(e.type === 'step' && Number.isFinite(e.loss) && e.lr > 0 && e.totalSteps === 78);
  const checkpoint = events.find((e) => e.type === 'checkpoint');
  assert.ok(
    checkpoint && checkpoint.type === 'checkpoint' && checkpoint.step === 7 && existsSync(checkpoint.dir),
  );
  assert.deepEqual(events.at(-1), { type: 'done', step: 7, interrupted: true, outputDir: out });

  const resumed: TrainEvent[] = [];
  // The same config as a file: the path form resolves its relative paths against the file's folder.
  const file = path.join(dir, 'alembic.json');
  writeFileSync(file, JSON.stringify(config));
  const summary = await train(file, { resume: true, onProgress: (e) => resumed.push(e) });
  assert.equal(summary.interrupted, undefined);
  assert.equal(summary.steps, 78);
  const resumedSteps = resumed.filter((e) => e.type === 'step').map((e) => e.step);
  assert.equal(resumedSteps[0], 8, 'the resumed run continues after the aborted step');
  assert.equal(resumedSteps.at(-1), 78);
  const evals = resumed.filter((e) => e.type === 'eval');
  assert.ok(evals.length >= 2 && evals.every((e) => e.type === 'eval' && 'accuracy' in e.metrics));
  assert.deepEqual(resumed.at(-1), { type: 'done', step: 78, interrupted: false, outputDir: out });

  const best = path.join(out, 'best');
  const r = await evaluate(best, files.test);
  assert.ok(r.metrics.accuracy > 0.8, `accuracy ${r.metrics.accuracy}; dev ${JSON.stringify(summary.dev)}`);
  const exported = await exportModel(best, path.join(dir, 'onnx'));
  assert.ok(readdirSync(exported.outDir).includes(exported.section.file));
  const nlp = await pipeline(exported.outDir);
  try {
    const [top] = (await nlp('这个酒店很好，我喜欢')) as { label: string; score: number }[];
    assert.equal(top.label, '正面');
  } finally {
    await nlp.dispose();
  }
});

test('advise: a spec file path and the same spec as an object give the same advice', () => {
  const file = path.join(import.meta.dirname, '..', '..', 'examples', 'advise', 'ner-zh.json');
  const fromFile = advise(file);
  assert.ok(fromFile.steps.length >= 1 && fromFile.steps[0].scheme.serve.length > 0);
  assert.throws(() => advise({ output: { kind: 'no-such-kind' } }), /output/);
});

test('train: a config object is validated like a config file, errors naming the field', async () => {
  const dir = tempDir('alembic-api-bad-config-');
  await assert.rejects(
    () =>
      train({
        config: {
          task: 'text_classification',
          dataset: {},
          model: { net: 'bow' },
          trainer: { output_dir: 'run' },
        },
        baseDir: dir,
      }),
    (e: Error) => e.name === 'UserError' && /dataset\.train/.test(e.message),
  );
  assert.equal(existsSync(path.join(dir, 'run')), false, 'nothing written for a bad config');
});
