import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { env, pipeline } from '@huggingface/transformers';
import { exportModelDir } from '../../../src/deploy/export/export-dir.js';
import { readDeployManifest } from '../../../src/deploy/export/manifest.js';
import { openPredictor } from '../../../src/deploy/open-predictor.js';
import { TextCodec } from '../../../src/tasks/text-codec.js';
import { parseConfig } from '../../../src/config/run-config.js';
import { train } from '../../../src/train/trainer.js';
import { Vocab } from '../../../src/data/vocab.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/tiny-data.js';

const tmp = tempDir('alembic-export-hf-');
after(() => (process.env.KEEP ? console.log(tmp) : rmSync(tmp, { recursive: true, force: true })));

// Local files only: transformers.js must never reach for the hub.
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = tmp;

const POSITIVE = ['great', 'lovely', 'fine', '好'];
const NEGATIVE = ['awful', 'bad', 'rude', '坏'];
const FILLER = ['the', 'room', 'rooms', 'staff', 'was', 'and', 'Café', 'NIGHT', 'view', 'booking'];
const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  ...POSITIVE,
  ...NEGATIVE,
  'the',
  'room',
  '##s',
  'staff',
  'was',
  'and',
  'cafe',
  'night',
  'view',
  'book',
  '##ing',
  '.',
  ',',
  '!',
];

function lines(rng: Rng, n: number, labelled: boolean): string[] {
  return Array.from({ length: n }, () => {
    const positive = rng.next() < 0.5;
    const words = Array.from({ length: 2 + rng.int(6) }, () => FILLER[rng.int(FILLER.length)]);
    const cues = positive ? POSITIVE : NEGATIVE;
    words.splice(rng.int(words.length + 1), 0, cues[rng.int(cues.length)]);
    const text = words.join(rng.next() < 0.3 ? ', ' : ' ') + (rng.next() < 0.5 ? '!' : '.');
    return labelled ? `${text}\t${positive ? 'pos' : 'neg'}` : text;
  });
}

async function trainTiny(
  task: 'text_classification' | 'text_pair_classification',
  net: 'transformer' | 'bow' = 'transformer',
): Promise<string> {
  const rng = new Rng(task === 'text_classification' ? 3 : 4);
  const pair = task === 'text_pair_classification';
  const train = path.join(tmp, `${task}.tsv`);
  const data = lines(rng, 160, true).map((l) => {
    if (!pair) return l;
    const [text, label] = l.split('\t');
    return `${text}\t${lines(rng, 1, false)[0]}\t${label}`;
  });
  writeFileSync(train, data.join('\n') + '\n');
  const vocab = path.join(tmp, 'vocab.txt');
  writeFileSync(vocab, VOCAB.join('\n') + '\n');
  const out = path.join(tmp, `run-${task}-${net}`);
  const config = parseConfig(
    {
      task,
      dataset: { train, max_len: 32, tokenizer: { type: 'wordpiece', vocab, lowercase: true } },
      model:
        net === 'bow'
          ? { net }
          : { net, hidden_size: 32, num_layers: 1, num_heads: 2, ffn_size: 64, dropout: 0 },
      trainer: {
        output_dir: out,
        epochs: 8,
        batch_size: 16,
        learning_rate: 3e-3,
        eval_step: 1000,
        threads: 1,
      },
    },
    path.join(tmp, `${task}.json`),
  );
  await trainFn(config);
  return path.join(out, 'best');
}
function softmax(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

const trainFn = (config: Parameters<typeof train>[0]) => train(config, { quiet: true, log: () => {} });

test('export --layout hf: transformers.js runs the export and agrees with alembic (label, score ±1e-4)', async () => {
  const best = await trainTiny('text_classification');
  const outDir = path.join(tmp, 'hf-export');
  const report = await exportModelDir(best, outDir, { layout: 'hf' });
  assert.equal(report.section.file, 'onnx/model.onnx');
  assert.deepEqual(
    report.section.inputs.map((i) => i.name),
    ['input_ids', 'attention_mask', 'token_type_ids'],
  );
  assert.ok(report.section.outputs.some((o) => o.name === 'logits'));
  for (const f of ['onnx/model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'])
    assert.ok(existsSync(path.join(outDir, f)), f);
  const hfConfig = JSON.parse(readFileSync(path.join(outDir, 'config.json'), 'utf8'));
  assert.equal(hfConfig.model_type, 'bert');
  assert.deepEqual(hfConfig.id2label, { 0: 'neg', 1: 'pos' });

  // Texts with what the tokenizer must get right: case, accents, "##" pieces, punctuation, CJK, unknown words.
  const texts = [
    ...lines(new Rng(9), 12, false),
    'The BOOKINGS were 好, café lovely!!',
    'Rude staff… awful view (zebra)',
    '坏坏 night,rooms',
  ];
  // The tokenizer.json gives alembic's ids.
  const manifest = readDeployManifest(outDir);
  const codec = TextCodec.load(
    { tokenizer: manifest.config.dataset.tokenizer, maxLen: 32, specials: true },
    outDir,
  );
  const classifier = await pipeline('text-classification', 'hf-export', { dtype: 'fp32', device: 'cpu' });
  for (const t of texts) {
    const ids = (classifier.tokenizer(t).input_ids.tolist() as bigint[][])[0].map(Number);
    assert.deepEqual(ids, codec.encode(t).ids, `ids of ${JSON.stringify(t)}`);
  }
  // alembic's own predictor loads the export (onnx/model.onnx through its manifest) and agrees.
  const alembic = await openPredictor(outDir);
  const ours = await alembic.predictBatch(texts.map((text) => ({ text })));
  await alembic.close();
  const theirs = (await classifier(texts)) as { label: string; score: number }[];
  // The model learnt something: the comparison is not between two near-uniform guesses.
  assert.ok(
    theirs.some((p) => p.score > 0.8),
    JSON.stringify(theirs.map((p) => p.score)),
  );
  theirs.forEach((p, i) => {
    const k = alembic.labels.indexOf(ours[i].labels[0]);
    assert.equal(p.label, ours[i].labels[0], texts[i]);
    assert.ok(
      Math.abs(p.score - ours[i].probabilities[k]) <= 1e-4,
      `${texts[i]}: ${p.score} vs ${ours[i].probabilities[k]}`,
    );
  });
  const vocab = Vocab.load(path.join(outDir, 'vocab.txt'));
  assert.equal(vocab.size, VOCAB.length);
  await classifier.dispose();
});

test('export --layout hf: text pairs get alembic’s ids and token_type_ids, and its probabilities (±1e-4)', async () => {
  const best = await trainTiny('text_pair_classification');
  const outDir = path.join(tmp, 'hf-pair');
  await exportModelDir(best, outDir, { layout: 'hf' });
  const classifier = await pipeline('text-classification', 'hf-pair', { dtype: 'fp32', device: 'cpu' });
  const pairs = lines(new Rng(11), 6, false).map((a, i) => [a, lines(new Rng(20 + i), 1, false)[0]]);
  const codec = TextCodec.load(
    { tokenizer: readDeployManifest(outDir).config.dataset.tokenizer, maxLen: 32, specials: true },
    outDir,
  );
  for (const [a, b] of pairs) {
    const enc = classifier.tokenizer(a, { text_pair: b });
    const ids = (enc.input_ids.tolist() as bigint[][])[0].map(Number);
    const types = (enc.token_type_ids!.tolist() as bigint[][])[0].map(Number);
    assert.deepEqual({ ids, typeIds: types }, codec.encodePair(a, b), `${a} / ${b}`);
  }
  const alembic = await openPredictor(outDir);
  const ours = await alembic.predictBatch(pairs.map(([text, textB]) => ({ text, textB })));
  await alembic.close();
  // transformers.js's text-classification pipeline takes no text_pair: its tokenizer and model, as the
  // Python pipeline does with {"text", "text_pair"}.
  const encoded = classifier.tokenizer(
    pairs.map((p) => p[0]),
    { text_pair: pairs.map((p) => p[1]), padding: true, truncation: true },
  );
  const { logits } = await classifier.model(encoded);
  const rows = (logits.tolist() as number[][]).map(softmax);
  rows.forEach((row, i) => {
    const k = row.indexOf(Math.max(...row));
    assert.equal(alembic.labels[k], ours[i].labels[0]);
    row.forEach((p, j) =>
      assert.ok(Math.abs(p - ours[i].probabilities[j]) <= 1e-4, `${p} vs ${ours[i].probabilities[j]}`),
    );
  });
  await classifier.dispose();
});

test('export --layout hf refuses, by name, a model it has no Hugging Face layout for', async () => {
  const best = await trainTiny('text_classification', 'bow');
  const outDir = path.join(tmp, 'hf-bow');
  await assert.rejects(exportModelDir(best, outDir, { layout: 'hf' }), (e: Error) => {
    assert.equal(e.name, 'UserError');
    assert.match(
      e.message,
      /export --layout hf: only the Transformer .* not the bow net; export it without --layout hf/,
    );
    return true;
  });
  assert.ok(!existsSync(outDir), 'nothing written');
});
