import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/run-config.js';
import { loadModelDir, writeModelFiles, type LoadedModel } from '../../src/train/model-dir.js';
import { train } from '../../src/train/trainer.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

/** The header of a safetensors file, read by hand: tensor names → shapes, and the metadata. */
function safetensorsHeader(file: string): {
  shapes: Record<string, number[]>;
  metadata: Record<string, string>;
} {
  const bytes = readFileSync(file);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()) as Record<
    string,
    { shape: number[] } | Record<string, string>
  >;
  const { __metadata__: metadata = {}, ...tensors } = header;
  const shapes = Object.fromEntries(
    Object.entries(tensors).map(([k, v]) => [k, (v as { shape: number[] }).shape]),
  );
  return { shapes, metadata: metadata as Record<string, string> };
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const small = { net: 'transformer', hidden_size: 16, num_layers: 1, num_heads: 2, ffn_size: 32 };
const quick = { epochs: 1, max_steps: 4, batch_size: 8, eval_step: 4, threads: 1 };

async function trainIn(dir: string, raw: Record<string, unknown>): Promise<string> {
  const config = parseConfig(raw, path.join(dir, 'config.json'));
  await train(config, { quiet: true, log: () => {} });
  return path.join(config.trainer.output_dir, 'best');
}

/** Predictions of a loaded model on `examples`, as JSON for comparison. */
function predict(m: LoadedModel, examples: unknown[]): string {
  const task = m.task as unknown as {
    encode(e: unknown): unknown;
    predict(model: unknown, features: unknown[]): unknown[];
  };
  return JSON.stringify(
    task.predict(
      m.model,
      examples.map((e) => task.encode(e)),
    ),
  );
}

/** The directory rewritten in the older layout (alembic's names, no config.json) loads to the same predictions. */
function assertOldLayoutLoadsTheSame(best: string, examples: unknown[]): void {
  const m = loadModelDir(best);
  const old = tempDir();
  writeModelFiles(old, m.config, m.task, m.model);
  assert.ok(!existsSync(path.join(old, 'config.json')));
  assert.equal(safetensorsHeader(path.join(old, 'model.safetensors')).metadata.format, 'alembic');
  assert.ok(
    Object.keys(safetensorsHeader(path.join(old, 'model.safetensors')).shapes).some((n) =>
      n.startsWith('encoder.'),
    ),
  );
  const reloaded = loadModelDir(old);
  assert.equal(predict(reloaded, examples), predict(m, examples));
}

test('a fine-tuned Transformer classifier is a Hugging Face BertForSequenceClassification directory', async () => {
  const dir = tempDir();
  const files = writeSentimentSplits(dir, { train: 40, dev: 16, test: 16 });
  const best = await trainIn(dir, {
    task: 'text_classification',
    dataset: { train: files.train, dev: files.dev, max_len: 24 },
    model: small,
    trainer: { ...quick, output_dir: path.join(dir, 'run') },
  });
  const config = readJson(path.join(best, 'config.json'));
  assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
  assert.equal(config.model_type, 'bert');
  assert.deepEqual(config.id2label, { '0': '正面', '1': '负面' });
  assert.deepEqual(config.label2id, { 正面: 0, 负面: 1 });
  assert.equal(config.problem_type, 'single_label_classification');
  assert.equal(config.hidden_size, 16);
  assert.equal(config.num_hidden_layers, 1);
  assert.equal(config.intermediate_size, 32);
  const vocabSize = readFileSync(path.join(best, 'vocab.txt'), 'utf8').trim().split('\n').length;
  assert.equal(config.vocab_size, vocabSize);
  const tokenizer = readJson(path.join(best, 'tokenizer_config.json'));
  assert.equal(tokenizer.tokenizer_class, 'BertTokenizer');
  assert.equal(tokenizer.model_max_length, 24);

  const { shapes, metadata } = safetensorsHeader(path.join(best, 'model.safetensors'));
  assert.equal(metadata.format, 'pt');
  assert.deepEqual(shapes['bert.embeddings.word_embeddings.weight'], [vocabSize, 16]);
  assert.deepEqual(shapes['bert.encoder.layer.0.attention.self.query.weight'], [16, 16]);
  assert.deepEqual(shapes['bert.pooler.dense.weight'], [16, 16]);
  assert.deepEqual(shapes['classifier.weight'], [2, 16]);
  assert.deepEqual(shapes['classifier.bias'], [2]);
  assert.ok(Object.keys(shapes).every((n) => n.startsWith('bert.') || n.startsWith('classifier.')));
  assert.ok(!existsSync(path.join(best, 'alembic-extra.safetensors')));

  const examples = [{ text: '这个酒店很棒' }, { text: '房间很差' }];
  assertOldLayoutLoadsTheSame(best, examples);
  // The last checkpoint (alembic's layout, written from the live model at the best step) predicts the same.
  const checkpoint = path.join(dir, 'run', 'checkpoints', 'step_4');
  assert.ok(existsSync(checkpoint));
  assert.equal(predict(loadModelDir(checkpoint), examples), predict(loadModelDir(best), examples));
});

test('multi-label and mean pooling: problem_type, and no architecture claimed for what HF lacks', async () => {
  const dir = tempDir();
  const train = path.join(dir, 'train.tsv');
  writeFileSync(
    train,
    Array.from({ length: 24 }, (_, i) => `文本${i}好\t${i % 2 ? 'a b' : 'c'}`).join('\n') + '\n',
  );
  const multi = await trainIn(dir, {
    task: 'multi_label_classification',
    dataset: { train, max_len: 16 },
    model: small,
    trainer: { ...quick, output_dir: path.join(dir, 'multi') },
  });
  const config = readJson(path.join(multi, 'config.json'));
  assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
  assert.equal(config.problem_type, 'multi_label_classification');
  assert.deepEqual(config.id2label, { '0': 'a', '1': 'b', '2': 'c' });

  const mean = await trainIn(dir, {
    task: 'text_classification',
    dataset: { train, max_len: 16 },
    model: { ...small, pooling: 'mean' },
    trainer: { ...quick, output_dir: path.join(dir, 'mean') },
  });
  const meanConfig = readJson(path.join(mean, 'config.json'));
  assert.equal(meanConfig.architectures, undefined);
  assert.match(String(meanConfig.alembic_note), /mean/);
  // The encoder stays loadable by AutoModel; the head lives in alembic's own file.
  const hf = safetensorsHeader(path.join(mean, 'model.safetensors'));
  assert.ok(Object.keys(hf.shapes).every((n) => n.startsWith('bert.')));
  assert.deepEqual(
    Object.keys(safetensorsHeader(path.join(mean, 'alembic-extra.safetensors')).shapes).sort(),
    ['classifier.bias', 'classifier.weight'],
  );
  assertOldLayoutLoadsTheSame(mean, [{ text: '文本1好' }, { text: '文本2好' }]);
});

test('sequence labelling: a softmax tagger is BertForTokenClassification, a CRF keeps its transitions beside', async () => {
  const dir = tempDir();
  const train = path.join(dir, 'ner.tsv');
  const lines = Array.from({ length: 24 }, (_, i) =>
    i % 2 ? '去 北 京\tO B-LOC I-LOC' : '在 上 海 的\tO B-LOC I-LOC O',
  );
  writeFileSync(train, lines.join('\n') + '\n');
  const examples = [{ tokens: ['去', '北', '京'] }, { tokens: ['上', '海'] }];
  const softmax = await trainIn(dir, {
    task: 'sequence_labeling',
    dataset: { train, max_len: 16 },
    model: { ...small, head: 'softmax' },
    trainer: { ...quick, output_dir: path.join(dir, 'softmax') },
  });
  const config = readJson(path.join(softmax, 'config.json'));
  assert.deepEqual(config.architectures, ['BertForTokenClassification']);
  assert.deepEqual(Object.values(config.id2label as object).sort(), ['B-LOC', 'I-LOC', 'O']);
  const { shapes } = safetensorsHeader(path.join(softmax, 'model.safetensors'));
  assert.deepEqual(shapes['classifier.weight'], [3, 16]);
  // BertForTokenClassification has no pooler: alembic's (unused) one is kept beside, not in HF's file.
  assert.ok(!Object.keys(shapes).some((n) => n.includes('pooler')));
  assert.deepEqual(
    Object.keys(safetensorsHeader(path.join(softmax, 'alembic-extra.safetensors')).shapes).sort(),
    ['encoder.pooler.dense.bias', 'encoder.pooler.dense.weight'],
  );
  assertOldLayoutLoadsTheSame(softmax, examples);

  const crf = await trainIn(dir, {
    task: 'sequence_labeling',
    dataset: { train, max_len: 16 },
    model: { ...small, head: 'crf' },
    trainer: { ...quick, output_dir: path.join(dir, 'crf') },
  });
  const crfConfig = readJson(path.join(crf, 'config.json'));
  assert.equal(crfConfig.architectures, undefined);
  assert.match(String(crfConfig.alembic_note), /CRF/);
  const extra = Object.keys(safetensorsHeader(path.join(crf, 'alembic-extra.safetensors')).shapes);
  assert.ok(extra.some((n) => n.startsWith('crf.')) && extra.includes('classifier.weight'), extra.join(', '));
  assertOldLayoutLoadsTheSame(crf, examples);
});

test('BOW and other non-Transformer nets keep the alembic layout alone', async () => {
  const dir = tempDir();
  const files = writeSentimentSplits(dir, { train: 30, dev: 10, test: 10 });
  const best = await trainIn(dir, {
    task: 'text_classification',
    dataset: { train: files.train, max_len: 16 },
    model: { net: 'bow', embedding_dim: 8, hidden_size: 8 },
    trainer: { ...quick, output_dir: path.join(dir, 'run') },
  });
  assert.ok(!existsSync(path.join(best, 'config.json')));
  assert.equal(safetensorsHeader(path.join(best, 'model.safetensors')).metadata.format, 'alembic');
});
