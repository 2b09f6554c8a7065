// --set overrides (validated like the file, recorded in the saved config), --threads, metric names checked
// when the config is read, "did you mean" for misspelled keys, metrics and values, and predict --format.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { applyOverrides, parseOverride } from '../../src/config/overrides.js';
import { loadConfig, parseConfig } from '../../src/config/run-config.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'alembic.js');

function configFile(dir: string, extra: Record<string, unknown> = {}): string {
  const files = writeSentimentSplits(dir, { train: 120, dev: 40, test: 20 });
  const file = path.join(dir, 'c.json');
  writeFileSync(
    file,
    JSON.stringify({
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev },
      model: { net: 'cnn', embedding_dim: 16, num_filters: 16 },
      trainer: { epochs: 3, batch_size: 16, output_dir: 'run', eval_step: 1000 },
      ...extra,
    }),
  );
  return file;
}

test('--set values are JSON when they parse, text otherwise, and create missing sections', () => {
  assert.deepEqual(parseOverride('trainer.epochs=1'), { path: ['trainer', 'epochs'], value: 1 });
  assert.deepEqual(parseOverride('model.net=bow'), { path: ['model', 'net'], value: 'bow' });
  assert.deepEqual(parseOverride('model.kernel_widths=[2,3]').value, [2, 3]);
  assert.deepEqual(parseOverride('a.b="1"').value, '1');
  assert.throws(() => parseOverride('epochs'), /--set epochs: expected key\.path=value/);
  assert.throws(() => parseOverride('trainer..x=1'), UserError);
  const raw = { trainer: { epochs: 3 }, task: 't' };
  const out = applyOverrides(raw, ['trainer.epochs=1', 'generation.beam_size=2'], 'c.json');
  assert.deepEqual(out, { trainer: { epochs: 1 }, task: 't', generation: { beam_size: 2 } });
  assert.equal(raw.trainer.epochs, 3, 'the file as read is left alone');
  assert.throws(() => applyOverrides(raw, ['task.x=1'], 'c.json'), /task is not a section/);
});

test('overrides are validated like the file, with the key named and a near miss suggested', () => {
  const dir = tempDir();
  const file = configFile(dir);
  assert.equal(loadConfig(file, ['trainer.epochs=1', 'model.net=bow']).model.net, 'bow');
  assert.throws(
    () => loadConfig(file, ['trainer.epochs=zero']),
    /c\.json: trainer\.epochs: .*expected number/,
  );
  assert.throws(
    () => loadConfig(file, ['trainer.epoch=1']),
    /trainer: Unrecognized key: "epoch" \(did you mean "epochs"\?\)/,
  );
  assert.throws(() => loadConfig(file, ['model.net=lstn']), /model\.net: .*\(did you mean "lstm"\?\)/);
});

test('metric names are checked when the config is read, per task, with "did you mean"', () => {
  const dir = tempDir();
  const file = configFile(dir);
  assert.throws(
    () => loadConfig(file, ['trainer.early_stopping.metric=macro-f1']),
    /trainer\.early_stopping\.metric: "macro-f1" is not a text_classification metric \(did you mean "macro_f1"\?\)/,
  );
  // A language model reports perplexity, not macro_f1; a masked one masked_accuracy too.
  const lm = [
    'task="language_model"',
    'language_model.objective=causal',
    'trainer.early_stopping.metric=macro_f1',
  ];
  assert.throws(
    () => loadConfig(file, lm),
    /"macro_f1" is not a language_model \(causal\) metric; one of perplexity/,
  );
  const masked = [
    'task="language_model"',
    'language_model.objective=masked',
    'trainer.metric=masked_accuracy',
  ];
  assert.equal(loadConfig(file, masked).trainer.metric, 'masked_accuracy');
  assert.equal(
    loadConfig(file, ['task="sequence_labeling"', 'trainer.metric=f1_PER']).trainer.metric,
    'f1_PER',
  );
  // parseConfig (a saved distillation stage, whose metric is its own loss) does not check.
  const raw = JSON.parse(readFileSync(file, 'utf8'));
  raw.trainer.metric = 'distill_loss';
  assert.equal(parseConfig(raw, file).trainer.metric, 'distill_loss');
});

test('CLI: train --set and --threads are recorded in the saved config; predict --format', () => {
  const dir = tempDir();
  const file = configFile(dir);
  const r = spawnSync(
    process.execPath,
    [
      bin,
      'train',
      '-c',
      file,
      '--quiet',
      '--set',
      'trainer.epochs=1',
      '--set',
      'model.net=bow',
      '--threads',
      '1',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const saved = JSON.parse(readFileSync(path.join(dir, 'run', 'config.json'), 'utf8'));
  assert.deepEqual([saved.trainer.epochs, saved.model.net, saved.trainer.threads], [1, 'bow', 1]);
  const bad = spawnSync(process.execPath, [bin, 'train', '-c', file, '--set', 'trainer.epochs'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^alembic: --set trainer\.epochs: expected key\.path=value/);

  const input = path.join(dir, 'in.txt');
  writeFileSync(input, '房间很好\n服务差\n');
  const best = path.join(dir, 'run', 'best');
  const predict = (format: string) => {
    const p = spawnSync(
      process.execPath,
      [bin, 'predict', '-m', best, '-i', input, '--format', format, '--threads', '1'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(p.status, 0, p.stderr);
    return p.stdout;
  };
  const tsv = predict('tsv').trimEnd().split('\n');
  assert.equal(tsv.length, 3);
  const labels = tsv[0].match(/^text\tlabel\tprobabilities \((.+)\)$/)![1].split(' ');
  assert.deepEqual([...labels].sort(), ['正面', '负面']);
  const records = predict('jsonl')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { text: string; label: string; probabilities: Record<string, number> });
  assert.deepEqual(
    records.map((x) => x.text),
    ['房间很好', '服务差'],
  );
  assert.deepEqual(Object.keys(records[0].probabilities), labels);
  assert.equal(records[1].label, tsv[2].split('\t')[1]);
  assert.deepEqual(JSON.parse(predict('json')), records);
});
