import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadTensors, disposeAll } from '../../src/engine/state-io.js';
import { transformerOptions } from '../../src/nets/build.js';
import { readBertConfig } from '../../src/nets/checkpoint-names.js';
import { loadPretrained } from '../../src/nets/pretrained.js';
import { TransformerEncoder } from '../../src/nets/transformer.js';
import { planMasking, type MaskedLmTask } from '../../src/tasks/masked-lm.js';
import { ENCODER_CONFIG_FILE, loadModelDir } from '../../src/train/model-dir.js';
import { train } from '../../src/train/trainer.js';
import type { Vocab } from '../../src/data/vocab.js';
import { ClassificationTask } from '../../src/tasks/classification.js';
import { parseConfig } from '../../src/config/run-config.js';
import { pretrainMaskedLm } from '../../src/train/pretrain.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const IDS = { pad: 0, mask: 4, specials: new Set([0, 1, 2, 3, 4]), vocabSize: 10 };

test('masking plan: chosen positions, 80/10/10 replacement, specials never chosen', () => {
  // [CLS] 5 6 7 [SEP] and a shorter row [CLS] 8 [SEP].
  const batch = [
    [2, 5, 6, 7, 3],
    [2, 8, 3],
  ];
  const table: Record<string, number[]> = {
    '0,0': [0, 0, 0], // [CLS]: a low draw, but specials are never chosen
    '0,1': [0.1, 0.5, 0], // chosen, → [MASK]
    '0,2': [0.9, 0, 0], // not chosen
    '0,3': [0.05, 0.85, 0.0], // chosen, → random: id 0 is special, walk on to 5
    '0,4': [0, 0, 0],
    '1,0': [0.5, 0, 0],
    '1,1': [0.12, 0.95, 0.7], // chosen, kept as it is
    '1,2': [0, 0, 0],
  };
  const plan = planMasking(batch, IDS, 0.15, (b, t, k) => table[`${b},${t}`][k]);
  assert.deepEqual(plan.inputs, [
    [2, 4, 6, 5, 3],
    [2, 8, 3],
  ]);
  // Row-major into the padded [2, 5] batch.
  assert.deepEqual(plan.positions, [1, 3, 6]);
  assert.deepEqual(plan.targets, [5, 7, 8]);
  // Nothing drawn below mask_prob: the first ordinary token is chosen anyway.
  const none = planMasking(batch, IDS, 0.15, (_b, _t, k) => (k === 0 ? 0.99 : 0.1));
  assert.deepEqual(none.positions, [1]);
  assert.deepEqual(none.inputs[0], [2, 4, 6, 7, 3]);
});

/** Lines of a repeating 4-letter cycle ("a b c d a b …"): every masked letter follows from its neighbours. */
function writeCycles(file: string, n: number, seed: number): void {
  const rng = new Rng(seed);
  const letters = 'abcd';
  const lines = Array.from({ length: n }, () => {
    const start = rng.int(4);
    return Array.from({ length: 6 + rng.int(6) }, (_, i) => letters[(start + i) % 4]).join(' ');
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

test('pretrain writes a Hugging Face BERT dir that loadPretrained and fine-tuning load', async () => {
  const dir = tempDir();
  writeCycles(path.join(dir, 'train.txt'), 300, 1);
  writeCycles(path.join(dir, 'dev.txt'), 40, 2);
  const out = path.join(dir, 'pretrained');
  const config = parseConfig(
    {
      task: 'language_model',
      dataset: { train: 'train.txt', dev: 'dev.txt', max_len: 16 },
      model: {
        net: 'transformer',
        hidden_size: 32,
        num_layers: 2,
        num_heads: 2,
        ffn_size: 64,
        max_positions: 32,
        dropout: 0,
      },
      trainer: {
        epochs: 12,
        batch_size: 16,
        learning_rate: 0.005,
        eval_step: 50,
        threads: 1,
        output_dir: out,
      },
      language_model: { mask_prob: 0.2 },
    },
    path.join(dir, 'pretrain.json'),
  );
  const summary = await pretrainMaskedLm(config, { quiet: true, log: () => {} });
  assert.equal(summary.pretrainedDir, out);
  // Chance is 1/4 (four letters).
  assert.ok(summary.dev!.masked_accuracy > 0.5, `masked accuracy ${summary.dev!.masked_accuracy}`);
  for (const f of ['config.json', 'vocab.txt', 'model.safetensors', 'alembic-pretrain.json'])
    assert.ok(existsSync(path.join(out, f)), f);

  const hf = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
  assert.equal(hf.model_type, 'bert');
  assert.equal(hf.hidden_size, 32);
  assert.equal(hf.num_hidden_layers, 2);
  const { tensors } = loadTensors(path.join(out, 'model.safetensors'));
  const names = [...tensors.keys()];
  assert.ok(names.includes('bert.encoder.layer.1.attention.self.query.weight'));
  assert.ok(names.includes('cls.predictions.bias'));
  assert.ok(!names.some((n) => n.startsWith('bert.pooler')));

  // loadPretrained maps the names back and copies the values.
  const c = readBertConfig(out);
  assert.equal(c.vocabSize, readFileSync(path.join(out, 'vocab.txt'), 'utf8').trim().split('\n').length);
  const encoder = new TransformerEncoder(transformerOptions({ ...config.model, pretrained_dir: out }, 0, 0));
  const warnings: string[] = [];
  const { loaded, unused } = loadPretrained(encoder, out, { warn: (m) => warnings.push(m) });
  assert.equal(loaded, names.filter((n) => n.startsWith('bert.')).length);
  // Every encoder tensor pre-training wrote is used, and only the MLM head is left out.
  assert.deepEqual(unused, []);
  assert.deepEqual(warnings, []);
  // Pre-training and fine-tuning see the very same token ids.
  assert.deepEqual(
    readFileSync(path.join(out, 'vocab.txt'), 'utf8'),
    readFileSync(path.join(out, 'training', 'best', 'vocab.txt'), 'utf8'),
  );
  const want = tensors.get('bert.embeddings.word_embeddings.weight')!.toArray();
  const got = encoder.stateDict().get('embeddings.word_embeddings.weight')!.toArray();
  assert.deepEqual(got, want);
  disposeAll(tensors);
  encoder.dispose();

  // A classifier config pointing at it builds with the pretrained encoder and its vocabulary.
  writeFileSync(path.join(dir, 'cls.tsv'), 'a b c d\tx\nd c b a\ty\n');
  const cls = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: 'cls.tsv', max_len: 16 },
      model: { net: 'transformer', pretrained_dir: out },
      trainer: { output_dir: 'cls-run' },
    },
    path.join(dir, 'cls.json'),
  );
  const task = new ClassificationTask(cls);
  task.fit(await task.read(cls.dataset.train, { labelled: true }));
  assert.equal(task.codec.vocab.size, c.vocabSize);
  const model = task.buildModel();
  const loadedWord = model.stateDict().get('encoder.embeddings.word_embeddings.weight')!.toArray();
  assert.deepEqual(loadedWord, want);
  // Every encoder tensor (embeddings, positions, layer norms, each layer) starts from pre-training;
  // only the pooler and the classifier are new.
  const saved = loadTensors(path.join(out, 'model.safetensors')).tensors;
  const fresh: string[] = [];
  for (const [name, t] of model.stateDict()) {
    const src = saved.get(name.replace(/^encoder\./, 'bert.'));
    if (!src) fresh.push(name);
    else assert.deepEqual(t.toArray(), src.toArray(), name);
  }
  assert.deepEqual(fresh.sort(), [
    'classifier.bias',
    'classifier.weight',
    'encoder.pooler.dense.bias',
    'encoder.pooler.dense.weight',
  ]);
  disposeAll(saved);
  // The special tokens have the ids pre-training gave them.
  const specials = (v: Vocab) => [v.size, v.padId, v.unkId, v.clsId, v.sepId, v.maskId];
  const mlm = loadModelDir(path.join(out, 'training', 'best'));
  assert.deepEqual(specials(task.codec.vocab), specials((mlm.task as MaskedLmTask).codec.vocab));
  mlm.model.dispose();
  model.dispose();

  // Trained and saved, the fine-tuned model rebuilds with the checkpoint's shape (2 layers, hidden 32; the
  // model section says neither) even after the checkpoint directory is gone.
  const run = await train(
    { ...cls, trainer: { ...cls.trainer, max_steps: 2, threads: 1 } },
    { quiet: true, log: () => {} },
  );
  const best = path.join(dir, 'cls-run', 'best');
  assert.ok(existsSync(path.join(best, ENCODER_CONFIG_FILE)));
  const before = loadModelDir(best);
  const inputs = ['a b c d', 'd c b a'].map((text) => before.task.encode({ text }));
  const want2 = before.task.predict(before.model, inputs);
  before.model.dispose();
  rmSync(out, { recursive: true });
  const after = loadModelDir(best);
  assert.equal(after.model.numParameters(), run.parameters);
  // …and the config it reports says that shape too (what a head or a distillation check reads).
  const { hidden_size, num_layers, num_heads, ffn_size } = after.config.model;
  assert.deepEqual([hidden_size, num_layers, num_heads, ffn_size], [32, 2, 2, 64]);
  assert.deepEqual(after.task.predict(after.model, inputs), want2);
  after.model.dispose();
});

test('CLI: score prints log-likelihood and perplexity per line; pretrain refuses a non-transformer', () => {
  const dir = tempDir();
  writeCycles(path.join(dir, 'train.txt'), 60, 3);
  const configFile = path.join(dir, 'lm.json');
  const base = {
    task: 'language_model',
    dataset: { train: 'train.txt', max_len: 16 },
    model: { net: 'lstm', embedding_dim: 16, hidden_size: 16 },
    trainer: { epochs: 1, batch_size: 16, threads: 1, output_dir: 'run' },
  };
  writeFileSync(configFile, JSON.stringify(base));
  const bin = path.resolve('bin/alembic.js');
  execFileSync('node', [bin, 'train', '-c', configFile, '--quiet'], { stdio: 'pipe' });
  const long = Array.from({ length: 20 }, (_, i) => 'abcd'[i % 4]).join(' ');
  writeFileSync(path.join(dir, 'lines.txt'), `a b c d\n<s> d a b <e>\n${long}\n`);
  const scored = spawnSync(
    'node',
    [bin, 'score', '-m', path.join(dir, 'run', 'best'), '-i', path.join(dir, 'lines.txt')],
    { encoding: 'utf8' },
  );
  assert.equal(scored.status, 0, scored.stderr);
  const [header, ...rows] = scored.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  // Labelled columns; a line longer than max_len (16: 14 tokens besides BOS/EOS) says it was cut.
  assert.deepEqual(header, ['text', 'log_prob', 'perplexity', 'tokens', 'truncated']);
  assert.equal(rows.length, 3);
  assert.equal(rows[1][0], 'd a b');
  assert.deepEqual([rows[0][4], rows[1][4]], ['no', 'no']);
  assert.equal(rows[2][4], 'first 14 of 20 tokens');
  assert.equal(rows[2][3], '15');
  assert.match(
    scored.stderr,
    /1 line\(s\) longer than the model's max_len were scored on their first 14 tokens/,
  );
  const [logProb, ppl, tokens] = rows[0].slice(1).map(Number);
  assert.equal(tokens, 5);
  assert.ok(logProb < 0);
  assert.ok(Math.abs(ppl - Math.exp(-logProb / tokens)) < 1e-3 * ppl);

  writeFileSync(configFile, JSON.stringify({ ...base, trainer: { ...base.trainer, output_dir: 'pre' } }));
  const r = spawnSync('node', [bin, 'pretrain', '-c', configFile], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /model\.net: masked-LM pre-training is for the transformer/);
});

test('pretrain refuses an output_dir holding a config.json it did not write, before training', async () => {
  const dir = tempDir();
  writeCycles(path.join(dir, 'train.txt'), 20, 1);
  const mine = path.join(dir, 'config.json');
  writeFileSync(mine, '{"mine": true}\n');
  const config = parseConfig(
    {
      task: 'language_model',
      dataset: { train: 'train.txt', max_len: 16 },
      model: { net: 'transformer', hidden_size: 16, num_layers: 1, num_heads: 2, ffn_size: 32 },
      trainer: { epochs: 1, threads: 1, output_dir: '.' },
    },
    path.join(dir, 'pretrain.json'),
  );
  await assert.rejects(
    pretrainMaskedLm(config, { quiet: true, log: () => {} }),
    /holds config.json not written by alembic pretrain/,
  );
  assert.equal(readFileSync(mine, 'utf8'), '{"mine": true}\n');
  assert.ok(!existsSync(path.join(dir, 'training')));
});
