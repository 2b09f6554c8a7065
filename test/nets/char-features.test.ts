import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { manualSeed } from '../../src/engine/create.js';
import { noGrad, tidy } from '../../src/engine/scope.js';
import { AdamW } from '../../src/engine/optim/adamw.js';
import { zeroGrad } from '../../src/engine/optim/clip.js';
import { exportModelDir } from '../../src/deploy/export/export-dir.js';
import { exportModel } from '../../src/deploy/export/exporter.js';
import { padIds } from '../../src/deploy/export/io.js';
import { loadSession } from '../../src/deploy/onnx/index.js';
import { OnnxPredictor } from '../../src/deploy/onnx-predictor.js';
import { padCharIds } from '../../src/data/char-vocab.js';
import { createTask } from '../../src/tasks/registry.js';
import type {
  SequenceInput,
  SequenceLabelerModel,
  SequenceLabelingTask,
} from '../../src/tasks/sequence-labeling.js';
import type { TaskModel } from '../../src/tasks/task.js';
import { parseConfig } from '../../src/config/run-config.js';
import { loadModelDir, saveModelDir } from '../../src/train/model-dir.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const tmp = tempDir('alembic-char-features-');
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A word of a tag whose spelling says the tag: -ing verbs, capitalised names, numbers, plain nouns. */
function word(rng: Rng, tag: string): string {
  const stem = Array.from(
    { length: 3 + rng.int(4) },
    () => 'bcdfgklmnprstv'[rng.int(14)] + 'aeiou'[rng.int(5)],
  ).join('');
  if (tag === 'VBG') return `${stem}ing`;
  if (tag === 'NNP') return stem[0].toUpperCase() + stem.slice(1);
  if (tag === 'CD') return String(rng.int(100000));
  return stem;
}

const TAGS = ['NN', 'VBG', 'NNP', 'CD'];

/** Sentences over a closed set of 40 words (the vocabulary); `fresh` draws new, unseen words instead. */
function sentences(rng: Rng, n: number, lexicon: string[][] | undefined): SequenceInput[] {
  return Array.from({ length: n }, () => {
    const tags = Array.from({ length: 2 + rng.int(7) }, () => TAGS[rng.int(TAGS.length)]);
    const tokens = tags.map((t) =>
      lexicon ? lexicon[TAGS.indexOf(t)][rng.int(lexicon[0].length)] : word(rng, t),
    );
    return { tokens, tags };
  });
}

function configOf(charFeatures: boolean, net = 'lstm') {
  return parseConfig(
    {
      task: 'sequence_labeling',
      dataset: { train: 'unused.tsv', max_len: 6, tokenizer: { type: 'whitespace', lowercase: true } },
      model: {
        net,
        embedding_dim: 8,
        num_filters: 6,
        kernel_widths: [2, 3],
        hidden_size: 12,
        dropout: 0.1,
        ...(charFeatures ? { char_features: { dim: 6, filters: 10, width: 3, max_word_len: 8 } } : {}),
      },
      trainer: { output_dir: 'unused' },
    },
    path.join(tmp, 'config.json'),
  );
}

const rng = new Rng(5);
const lexicon = TAGS.map((t) => Array.from({ length: 10 }, () => word(rng, t)));
const train = sentences(rng, 60, lexicon);

function fitted(charFeatures: boolean, net = 'lstm') {
  const config = configOf(charFeatures, net);
  const task = createTask(config) as SequenceLabelingTask;
  task.fit(train);
  manualSeed(3);
  const model = task.buildModel();
  return { config, task, model };
}

/** Emissions of each sentence's tokens, as plain numbers per token. */
function emissions(task: SequenceLabelingTask, model: SequenceLabelerModel, e: SequenceInput): number[][] {
  const rows = task.encode(e).rows;
  const k = model.opts.numTags;
  return noGrad(() =>
    tidy(() => {
      const words = model.wordScores(rows).words; // [rows, maxWords, tags]
      const maxWords = words.size(1);
      const flat = words.toArray();
      return rows.flatMap((r, i) =>
        r.starts.map((_, w) => flat.slice((i * maxWords + w) * k, (i * maxWords + w + 1) * k)),
      );
    }),
  );
}

test('char features: two unseen words get different representations (without them, the same [UNK] one)', () => {
  const a: SequenceInput = { tokens: [lexicon[0][0], 'Zorbaxil', lexicon[0][1]] };
  const b: SequenceInput = { tokens: [lexicon[0][0], 'quibbling', lexicon[0][1]] };
  for (const on of [true, false]) {
    const { task, model } = fitted(on);
    model.eval();
    const unk = task.aligner.vocab.unkId;
    assert.equal(task.encode(a).rows[0].ids[1], unk);
    assert.equal(task.encode(b).rows[0].ids[1], unk);
    const [ea, eb] = [emissions(task, model, a)[1], emissions(task, model, b)[1]];
    const diff = Math.max(...ea.map((v, j) => Math.abs(v - eb[j])));
    if (on) assert.ok(diff > 1e-3, `unseen words differ with char features (max diff ${diff})`);
    else assert.equal(diff, 0, 'without char features both are [UNK]');
  }
});

test("char features: a word's character ids do not depend on its neighbours (fixed width, cut to max_word_len)", () => {
  const { task } = fitted(true);
  const alone = task.encode({ tokens: ['Ab'] }).rows[0].chars!;
  const beside = task.encode({ tokens: ['Ab', 'averyveryverylongword'] }).rows[0].chars!;
  assert.deepEqual(beside[0], alone[0]);
  assert.equal(beside[1].length, 8, 'words are cut to max_word_len characters');
  assert.equal(alone[0][0] === alone[0][1], false, '"A" and "b" are different characters');
  assert.equal(alone[0][2], 0, 'then [PAD]');
});

test('char features: config refuses the char and wordpiece tokenizers and nets other than GRU/LSTM/CNN', () => {
  const base = { task: 'sequence_labeling', dataset: { train: 'x.tsv' }, trainer: { output_dir: 'o' } };
  const cf = { char_features: {} };
  assert.throws(
    () =>
      parseConfig(
        { ...base, dataset: { train: 'x.tsv', tokenizer: { type: 'char' } }, model: { net: 'lstm', ...cf } },
        'c.json',
      ),
    /model\.char_features: the char tokenizer/,
  );
  assert.throws(
    () => parseConfig({ ...base, model: { net: 'transformer', ...cf } }, 'c.json'),
    /net "lstm", "gru" or "cnn"/,
  );
  assert.throws(
    () => parseConfig({ ...base, model: { net: 'lstm', char_features: { width: 4 } } }, 'c.json'),
    /odd/,
  );
});

/** The exported graph's emissions against libtorch's at the real positions of the rows: ≤ 1e-5. */
async function assertParity(
  task: SequenceLabelingTask,
  m: SequenceLabelerModel,
  features: ReturnType<SequenceLabelingTask['encode']>[],
  net: string,
): Promise<void> {
  const rows = features.flatMap((f) => f.rows);
  const torch = noGrad(() => tidy(() => m.wordScores(rows).pieces.toArray()));
  const padded = padIds(
    rows.map((r) => r.ids),
    0,
  );
  const time = padded.ids.dims[1];
  const charIds = padCharIds(
    rows.map((r) => r.chars!),
    time,
    8,
    0,
  );
  const bytes = exportModel({
    manifest: { task: 'sequence_labeling', net } as never,
    task,
    model: m,
  }).bytes;
  const session = await loadSession(bytes);
  const out = await session.run({
    input_ids: padded.ids,
    attention_mask: padded.mask,
    char_ids: { data: charIds, dims: [rows.length, time, 8] },
  });
  await session.release();
  const k = m.opts.numTags;
  let diff = 0;
  rows.forEach((row, i) => {
    for (let p = 0; p < row.ids.length; p++)
      for (let j = 0; j < k; j++)
        diff = Math.max(
          diff,
          Math.abs(
            (out.emissions.data as Float32Array)[(i * time + p) * k + j] - torch[(i * time + p) * k + j],
          ),
        );
  });
  assert.ok(diff <= 1e-5, `${net}: max |emission diff| ${diff}`);
}

test('char features: a trained BiLSTM-CRF tags unseen words; ONNX equals libtorch; reload is identical', async () => {
  const { config, task, model } = fitted(true);
  const m = model as SequenceLabelerModel;
  const params = m.parameters();
  const opt = new AdamW(params, { lr: 0.02, weightDecay: 0 });
  m.train();
  for (let step = 0; step < 120; step++) {
    const batch = train.slice((step * 10) % 60, ((step * 10) % 60) + 10).map((e) => task.encode(e));
    zeroGrad(params);
    tidy(() => m.loss(batch).backward());
    opt.step();
  }
  m.eval();
  const fresh = sentences(new Rng(9), 40, undefined); // every word unseen
  const features = fresh.map((e) => task.encode(e));
  const predicted = task.predict(m as TaskModel<unknown>, features);
  const gold = fresh.flatMap((e) => e.tags!);
  const right = predicted.flatMap((p) => p.tags).filter((t, i) => t === gold[i]).length;
  assert.ok(
    right / gold.length > 0.5,
    `unseen-word accuracy ${right / gold.length} (one [UNK] vector: about the top tag's share, 0.25–0.3)`,
  );

  const modelDir = path.join(tmp, 'model');
  saveModelDir(modelDir, config, task, m);
  const reloaded = loadModelDir(modelDir);
  assert.deepEqual(
    reloaded.task.predict(
      reloaded.model,
      features.map((f) => f),
    ),
    predicted,
    'reload: same predictions',
  );

  await assertParity(task, m, features, 'lstm');

  // The exported directory's runtime builds the char ids itself, from the saved char vocabulary.
  const outDir = path.join(tmp, 'onnx');
  await exportModelDir(modelDir, outDir);
  const predictor = await OnnxPredictor.open(outDir);
  assert.deepEqual(await predictor.predictExamples(fresh.map((e) => ({ tokens: e.tokens }))), predicted);
  await predictor.close();
});

for (const net of ['cnn', 'gru']) {
  test(`char features (${net}): ONNX emissions equal libtorch's, the exported runtime's tags too`, async () => {
    const { config, task, model } = fitted(true, net);
    const m = model as SequenceLabelerModel;
    m.eval();
    const fresh = sentences(new Rng(11), 12, undefined);
    const features = fresh.map((e) => task.encode(e));
    await assertParity(task, m, features, net);
    const modelDir = path.join(tmp, `model-${net}`);
    saveModelDir(modelDir, config, task, m);
    const outDir = path.join(tmp, `onnx-${net}`);
    await exportModelDir(modelDir, outDir);
    const predictor = await OnnxPredictor.open(outDir);
    const expected = task.predict(m as TaskModel<unknown>, features);
    assert.deepEqual(await predictor.predictExamples(fresh.map((e) => ({ tokens: e.tokens }))), expected);
    await predictor.close();
  });
}
