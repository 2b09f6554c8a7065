import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed } from '../../../src/engine/create.js';
import { noGrad, tidy } from '../../../src/engine/scope.js';
import { exportModelDir } from '../../../src/deploy/export/export-dir.js';
import { exportModel } from '../../../src/deploy/export/exporter.js';
import { padIds } from '../../../src/deploy/export/io.js';
import { predictExported } from '../../../src/deploy/export/predict-exported.js';
import { viterbi } from '../../../src/deploy/export/viterbi.js';
import { loadSession } from '../../../src/deploy/onnx/index.js';
import { OnnxPredictor } from '../../../src/deploy/onnx-predictor.js';
import type { AnyTask } from '../../../src/tasks/registry.js';
import { createTask } from '../../../src/tasks/registry.js';
import type { SequenceInput, SequenceLabelerModel } from '../../../src/tasks/sequence-labeling.js';
import type { TaskModel } from '../../../src/tasks/task.js';
import { parseConfig } from '../../../src/config/run-config.js';
import { saveModelDir } from '../../../src/train/model-dir.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/tiny-data.js';

const tmp = tempDir('alembic-export-tasks-');
after(() => rmSync(tmp, { recursive: true, force: true }));

const NETS = ['bow', 'cnn', 'gru', 'lstm', 'transformer'] as const;
type Net = (typeof NETS)[number];

const SMALL_MODEL = {
  embedding_dim: 12,
  hidden_size: 16,
  num_filters: 6,
  kernel_widths: [2, 3],
  num_layers: 2,
  num_heads: 2,
  ffn_size: 24,
  dropout: 0.1,
};

/** A random-init model of `task`, saved as a model directory and exported; returns both sides. */
async function exported(
  name: string,
  task: string,
  net: Net,
  train: unknown[],
  config: { dataset?: Record<string, unknown>; model?: Record<string, unknown> } = {},
) {
  const c = parseConfig(
    {
      task,
      dataset: { train: 'unused.tsv', max_len: 8, tokenizer: { type: 'whitespace' }, ...config.dataset },
      model: { net, ...SMALL_MODEL, ...config.model },
      trainer: { output_dir: 'unused' },
    },
    path.join(tmp, 'config.json'),
  );
  const t: AnyTask = createTask(c);
  t.fit(train);
  manualSeed(13);
  const model = t.buildModel();
  model.eval();
  const modelDir = path.join(tmp, `${name}-model`);
  saveModelDir(modelDir, c, t, model);
  const outDir = path.join(tmp, `${name}-onnx`);
  await exportModelDir(modelDir, outDir);
  const bytes = exportModel({ manifest: { task, net } as never, task: t, model }).bytes;
  return { task: t, model, outDir, bytes };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const report: string[] = [];
after(() => console.log(`# ONNX vs libtorch: ${report.join(', ')}`));

// ---------------------------------------------------------------- sequence labelling

const WORDS = 'ab cd ef gh ij kl mn op qr st'.split(' ');
const TAGS = ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER'];

function sentence(rng: Rng, length: number, labelled: boolean): SequenceInput {
  const tokens = Array.from({ length }, () => WORDS[rng.int(WORDS.length)]);
  return labelled ? { tokens, tags: tokens.map(() => TAGS[rng.int(TAGS.length)]) } : { tokens };
}

test('viterbi: hand-computed best path, and a forbidden move avoided', () => {
  // Two tags, two tokens; score = em[0][y0] + transitions[y0][y1] + em[1][y1] (start and end 0):
  // 00 = 1 + 0 + 0.5 = 1.5; 01 = 1 + 2 + 0 = 3; 10 = 0 − 1 + 0.5 = −0.5; 11 = 0 + 0 + 0 = 0.
  const crf = {
    numTags: 2,
    transitions: new Float32Array([0, 2, -1, 0]),
    start: new Float32Array([0, 0]),
    end: new Float32Array([0, 0]),
  };
  const em = [
    [1, 0],
    [0.5, 0],
  ];
  assert.deepEqual(
    viterbi((t, j) => em[t][j], 2, crf),
    [0, 1],
  );
  // 0 → 1 forbidden: 00 is best.
  const no01 = {
    transitions: [
      [true, false],
      [true, true],
    ],
    start: [true, true],
    end: [true, true],
  };
  assert.deepEqual(
    viterbi((t, j) => em[t][j], 2, crf, no01),
    [0, 0],
  );
  // Starting in 0 forbidden: 11 (0) beats 10 (−0.5).
  const start1 = {
    transitions: [
      [true, true],
      [true, true],
    ],
    start: [false, true],
    end: [true, true],
  };
  assert.deepEqual(
    viterbi((t, j) => em[t][j], 2, crf, start1),
    [1, 1],
  );
  // Ending in 1 forbidden: 00; unless the row does not end its sentence: 01 again.
  const endIn0 = {
    transitions: [
      [true, true],
      [true, true],
    ],
    start: [true, true],
    end: [true, false],
  };
  assert.deepEqual(
    viterbi((t, j) => em[t][j], 2, crf, endIn0),
    [0, 0],
  );
  assert.deepEqual(
    viterbi((t, j) => em[t][j], 2, crf, endIn0, { start: true, end: false }),
    [0, 1],
  );
});

for (const head of ['crf', 'softmax'] as const) {
  test(`sequence labelling (${head}): emissions equal libtorch's, decoded tags and entities identical`, async () => {
    const rng = new Rng(21);
    const train = Array.from({ length: 30 }, () => sentence(rng, 2 + rng.int(6), true));
    for (const net of NETS) {
      const { task, model, outDir, bytes } = await exported(
        `seq-${head}-${net}`,
        'sequence_labeling',
        net,
        train,
        {
          model: { head },
        },
      );
      // Sentences of 1 … 17 tokens: with max_len 8 the long ones span several windows.
      const examples = [1, 17, 4, 9, 3, 12].map((n) => sentence(rng, n, false));
      const features = examples.map((e) => task.encode(e));
      const m = model as SequenceLabelerModel;

      const rows = features.flatMap((f) => f.rows);
      assert.ok(rows.length > examples.length, 'some sentences take several windows');
      const torch = noGrad(() => tidy(() => m.wordScores(rows).pieces.toArray()));
      const padded = padIds(
        rows.map((r) => r.ids),
        0,
      );
      const session = await loadSession(bytes);
      const out = await session.run({ input_ids: padded.ids, attention_mask: padded.mask });
      await session.release();
      // Compare real positions only (torch's padding positions are not read by anything).
      const [r, t, k] = out.emissions.dims;
      const got: number[] = [];
      const want: number[] = [];
      rows.forEach((row, i) => {
        for (let p = 0; p < row.ids.length; p++)
          for (let j = 0; j < k; j++) {
            got.push((out.emissions.data as Float32Array)[(i * t + p) * k + j]);
            want.push(torch[(i * t + p) * k + j]);
          }
      });
      assert.equal(r, rows.length);
      const diff = maxAbsDiff(got, want);
      assert.ok(diff <= 1e-4, `${net}: max |emission diff| ${diff}`);
      report.push(`seq-${head} ${net} ${diff.toExponential(1)}`);
      assert.equal(out.transitions !== undefined, head === 'crf');

      const expected = task.predict(model as TaskModel<unknown>, features);
      const predictor = await OnnxPredictor.open(outDir);
      assert.deepEqual(await predictor.predictExamples(examples), expected, `${net}: tags and entities`);
      const viaApi = await predictor.predictBatch([{ text: examples[2].tokens.join(' ') }]);
      assert.deepEqual(viaApi[0].labels, (expected[2] as { tags: string[] }).tags);
      // The service's entities: the task's chunks at character offsets of the space-separated input.
      const line = examples[2].tokens.join(' ');
      const chunks = (expected[2] as { entities: { type: string; text: string }[] }).entities;
      assert.deepEqual(
        viaApi[0].entities?.map((e) => [e.type, e.word, line.slice(e.start, e.end)]),
        chunks.map((c) => [c.type, c.text, c.text]),
      );
      for (const e of viaApi[0].entities ?? []) assert.ok(e.score > 0 && e.score <= 1, `score ${e.score}`);
      await predictor.close();
      if (net === 'transformer') {
        // What `alembic predict --model <exported>` prints: the task's own lines.
        const input = path.join(tmp, `seq-${head}.txt`);
        writeFileSync(input, examples.map((e) => e.tokens.join(' ')).join('\n') + '\n');
        let printed = '';
        await predictExported(outDir, input, 4, (t) => (printed += t));
        const lines = examples.map((e, i) => task.formatPrediction({ ...e, line: i + 1 }, expected[i]));
        const header = task.predictionColumns!(examples[0]).join('\t');
        assert.equal(printed, [header, ...lines].join('\n') + '\n');
      }
    }
  });
}

// ---------------------------------------------------------------- text matching

function words(rng: Rng, n: number): string {
  return Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)]).join(' ');
}

const MATCHING_CASES: {
  name: string;
  nets: readonly Net[];
  matching_head?: 'cosine' | 'mlp';
  graded?: boolean;
}[] = [
  { name: 'binary', nets: NETS }, // mlp head for siamese nets, cross-encoder for the Transformer
  { name: 'cosine', nets: ['bow', 'gru'], matching_head: 'cosine' },
  { name: 'graded', nets: ['cnn', 'lstm', 'transformer'], graded: true },
];

for (const c of MATCHING_CASES) {
  test(`text matching (${c.name}): raw scores equal libtorch's and predictions match`, async () => {
    const rng = new Rng(31);
    const train = Array.from({ length: 30 }, (_, i) => ({
      textA: words(rng, 1 + rng.int(6)),
      textB: words(rng, 1 + rng.int(6)),
      score: c.graded ? i % 5 : i % 2,
    }));
    for (const net of c.nets) {
      const { task, model, outDir, bytes } = await exported(
        `match-${c.name}-${net}`,
        'text_matching',
        net,
        train,
        {
          dataset: { max_len: 10 },
          model: c.matching_head ? { matching_head: c.matching_head } : {},
        },
      );
      const examples = [3, 1, 9, 5, 2].map((n, i) => ({
        textA: words(rng, n),
        textB: words(rng, 1 + ((i * 3) % 7)),
      }));
      const features = examples.map((e) => task.encode(e));
      const mm = model as unknown as { rawScores(p: unknown[]): { toArray(): number[] } };
      const torchRaw = noGrad(() => tidy(() => mm.rawScores(features.map((f) => f.pair)).toArray()));
      const expected = task.predict(model as TaskModel<unknown>, features) as { score: number }[];

      const predictor = await OnnxPredictor.open(outDir);
      const got = (await predictor.predictExamples(examples)) as { score: number }[];
      await predictor.close();
      const session = await loadSession(bytes);
      const names = session.inputNames.join(',');
      assert.equal(
        names,
        net === 'transformer'
          ? 'input_ids,attention_mask,token_type_ids'
          : 'input_ids,attention_mask,input_ids_b,attention_mask_b',
      );
      await session.release();
      const scoreDiff = maxAbsDiff(
        got.map((p) => p.score),
        expected.map((p) => p.score),
      );
      assert.ok(scoreDiff <= 1e-4 * (c.graded ? 4 : 1), `${net}: max |score diff| ${scoreDiff}`);
      assert.ok(new Set(torchRaw.map((v) => v.toFixed(4))).size > 1, 'scores differ between pairs');
      report.push(`match-${c.name} ${net} ${scoreDiff.toExponential(1)}`);
    }
  });
}

// ---------------------------------------------------------------- reading comprehension

function rcExample(rng: Rng, id: string, contextWords: number, answerable = true) {
  const context = words(rng, contextWords);
  const at = rng.int(contextWords);
  const tokens = context.split(' ');
  const start = tokens.slice(0, at).join(' ').length + (at > 0 ? 1 : 0);
  return {
    id,
    question: words(rng, 1 + rng.int(5)),
    context,
    answers: answerable ? [{ text: tokens[at], start }] : [],
    isImpossible: !answerable,
  };
}

test('reading comprehension: start/end logits equal libtorch’s, answers identical over several windows', async () => {
  const rng = new Rng(41);
  const train = Array.from({ length: 24 }, (_, i) => rcExample(rng, `q${i}`, 4 + rng.int(20), i % 5 !== 0));
  for (const net of NETS) {
    const { task, model, outDir, bytes } = await exported(`rc-${net}`, 'reading_comprehension', net, train, {
      dataset: { max_len: 16, max_question_len: 4, doc_stride: 5 },
      model: { max_answer_len: 4 },
    });
    const examples = [3, 30, 11, 1, 22].map((n, i) => rcExample(rng, `t${i}`, n));
    const features = examples.map((e) => task.encode(e));
    assert.ok(features[1].windows.length > 2, 'a long context takes several windows');
    const rt = task as unknown as {
      windowLogits(m: unknown, f: unknown[]): { start: number[]; end: number[] }[][];
    };
    const torch = rt.windowLogits(model, features).flat();

    const windows = features.flatMap((f) => f.windows as { ids: number[]; typeIds: number[] }[]);
    const p = padIds(
      windows.map((w) => w.ids),
      0,
      windows.map((w) => w.typeIds),
    );
    const session = await loadSession(bytes);
    const out = await session.run({
      input_ids: p.ids,
      attention_mask: p.mask,
      ...(net === 'transformer' ? { token_type_ids: p.typeIds! } : {}),
    });
    await session.release();
    const time = p.ids.dims[1];
    const got: number[] = [];
    const want: number[] = [];
    windows.forEach((w, r) => {
      for (let t = 0; t < w.ids.length; t++) {
        got.push(
          (out.start_logits.data as Float32Array)[r * time + t],
          (out.end_logits.data as Float32Array)[r * time + t],
        );
        want.push(torch[r].start[t], torch[r].end[t]);
      }
    });
    const diff = maxAbsDiff(got, want);
    assert.ok(diff <= 1e-4, `${net}: max |logit diff| ${diff}`);
    report.push(`rc ${net} ${diff.toExponential(1)}`);

    const expected = task.predict(model as TaskModel<unknown>, features) as {
      answer: string;
      start: number;
      score: number;
    }[];
    const predictor = await OnnxPredictor.open(outDir);
    const predicted = (await predictor.predictExamples(examples)) as typeof expected;
    await predictor.close();
    predicted.forEach((q, i) => {
      assert.equal(q.answer, expected[i].answer, `${net} question ${i}`);
      assert.equal(q.start, expected[i].start);
      assert.ok(Math.abs(q.score - expected[i].score) <= 1e-4);
    });
    if (net === 'cnn') {
      // `alembic predict` on the exported directory writes SQuAD's {id: answer} document.
      const input = path.join(tmp, 'rc-predict.json');
      const paragraphs = examples.map((e) => ({
        context: e.context,
        qas: [{ id: e.id, question: e.question }],
      }));
      writeFileSync(input, JSON.stringify({ data: [{ paragraphs }] }));
      let printed = '';
      await predictExported(outDir, input, 2, (t) => (printed += t));
      assert.deepEqual(
        JSON.parse(printed),
        Object.fromEntries(examples.map((e, i) => [e.id, expected[i].answer])),
      );
    }
  }
});
