/**
 * pipeline(): every shape family on tiny random-init models saved as model directories (libtorch), its
 * answers equal to the task's own predictions, and a classifier's export (onnxruntime) answering the same.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { pipeline, type PipelineResult } from '../../src/index.js';
import { manualSeed } from '../../src/engine/create.js';
import { exportModelDir } from '../../src/deploy/export/export-dir.js';
import { createTask, type AnyTask } from '../../src/tasks/registry.js';
import { parseConfig } from '../../src/config/run-config.js';
import { saveModelDir } from '../../src/train/model-dir.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const tmp = tempDir('alembic-api-pipeline-');
after(() => rmSync(tmp, { recursive: true, force: true }));

const WORDS = 'ab cd ef gh ij kl mn op qr st'.split(' ');
const words = (rng: Rng, n: number) =>
  Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)]).join(' ');

/** A random-init model of `task`, fitted on `train` and saved as a model directory; returns its dir and task. */
function modelDir(
  name: string,
  task: string,
  net: string,
  train: unknown[],
  extra: Record<string, unknown> = {},
) {
  const c = parseConfig(
    {
      task,
      dataset: {
        train: 'unused.tsv',
        max_len: 16,
        tokenizer: { type: 'whitespace' },
        ...(extra.dataset as object),
      },
      model: {
        net,
        embedding_dim: 12,
        hidden_size: 16,
        num_layers: 1,
        num_heads: 2,
        ffn_size: 24,
        dropout: 0,
      },
      trainer: { output_dir: 'unused' },
      ...(extra.generation ? { generation: extra.generation } : {}),
    },
    path.join(tmp, 'config.json'),
  );
  const t: AnyTask = createTask(c);
  t.fit(train);
  manualSeed(7);
  const model = t.buildModel();
  model.eval();
  const dir = path.join(tmp, name);
  saveModelDir(dir, c, t, model);
  return { dir, task: t, model };
}

const scores = (r: PipelineResult) => (r as { score: number }[]).map((x) => x.score);

test('classification: [{label, score}] best first, topK, batch input gives one array per input', async () => {
  const rng = new Rng(1);
  const train = Array.from({ length: 30 }, (_, i) => ({
    text: words(rng, 3),
    label: ['a', 'b', 'c'][i % 3],
  }));
  const m = modelDir('cls', 'text_classification', 'bow', train);
  const nlp = await pipeline(m.dir);
  try {
    assert.equal(nlp.task, 'text_classification');
    assert.equal(nlp.backend, 'torch');
    const one = (await nlp('ab cd ef')) as { label: string; score: number }[];
    const p = m.task.predict(m.model, [m.task.encode({ text: 'ab cd ef' })])[0];
    assert.equal(one.length, 1);
    assert.equal(one[0].label, p.labels[0]);
    assert.ok(Math.abs(one[0].score - Math.max(...p.probabilities)) < 1e-6);
    const all = (await nlp('ab cd ef', { topK: null })) as { label: string; score: number }[];
    assert.deepEqual(all.map((x) => x.label).sort(), ['a', 'b', 'c']);
    const s = scores(all);
    assert.deepEqual(
      [...s].sort((x, y) => y - x),
      s,
      'sorted best first',
    );
    assert.ok(Math.abs(s.reduce((a, b) => a + b) - 1) < 1e-5);
    assert.equal(((await nlp('ab', { topK: 2 })) as unknown[]).length, 2);
    const batch = (await nlp(['ab cd', 'qr st gh', 'ij'])) as PipelineResult[];
    assert.equal(batch.length, 3);
    for (const r of batch) assert.ok(Array.isArray(r) && r.length === 1 && 'label' in r[0]);
    await assert.rejects(() => nlp({ question: 'x', context: 'y' }), /reads a text/);

    // The export answers the same through onnxruntime.
    const out = path.join(tmp, 'cls-onnx');
    await exportModelDir(m.dir, out);
    const onnx = await pipeline(out);
    try {
      assert.equal(onnx.backend, 'onnx');
      const o = (await onnx('ab cd ef', { topK: null })) as { label: string; score: number }[];
      assert.deepEqual(
        o.map((x) => x.label),
        all.map((x) => x.label),
      );
      o.forEach((x, i) => assert.ok(Math.abs(x.score - all[i].score) < 1e-4));
    } finally {
      await onnx.dispose();
    }
  } finally {
    await nlp.dispose();
  }
  await assert.rejects(() => nlp('ab'), /disposed/);
});

test('multi-label: every label above the threshold; pair classification reads {text, text_pair}', async () => {
  const rng = new Rng(2);
  const ml = Array.from({ length: 30 }, (_, i) => ({
    text: words(rng, 3),
    labels: [['x'], ['y'], ['x', 'z']][i % 3],
  }));
  const m = modelDir('ml', 'multi_label_classification', 'bow', ml);
  const nlp = await pipeline(m.dir);
  try {
    const all = (await nlp('ab cd', { threshold: 0 })) as { label: string; score: number }[];
    assert.equal(all.length, 3);
    const cut = all[1].score;
    const above = (await nlp('ab cd', { threshold: cut })) as { label: string; score: number }[];
    assert.deepEqual(
      above.map((x) => x.label),
      all.filter((x) => x.score >= cut).map((x) => x.label),
    );
    const p = m.task.predict(m.model, [m.task.encode({ text: 'ab cd' })])[0];
    const own = (await nlp('ab cd')) as { label: string }[];
    assert.deepEqual(own.map((x) => x.label).sort(), [...p.labels].sort());
  } finally {
    await nlp.dispose();
  }

  const pairs = Array.from({ length: 30 }, (_, i) => ({
    text: words(rng, 2),
    textB: words(rng, 2),
    label: i % 2 ? 'same' : 'other',
  }));
  const pm = modelDir('pair', 'text_pair_classification', 'bow', pairs);
  const pair = await pipeline(pm.dir);
  try {
    const r = (await pair({ text: 'ab cd', text_pair: 'ef gh' })) as { label: string; score: number }[];
    const p = pm.task.predict(pm.model, [pm.task.encode({ text: 'ab cd', textB: 'ef gh' })])[0];
    assert.equal(r[0].label, p.labels[0]);
    await assert.rejects(() => pair('ab cd'), /pair \{text, text_pair\}/);
  } finally {
    await pair.dispose();
  }
});

test('sequence labelling: entities {entity_group, word, start, end, score} at string offsets', async () => {
  const rng = new Rng(3);
  const TAGS = ['O', 'B-LOC', 'I-LOC', 'B-PER'];
  const train = Array.from({ length: 30 }, () => {
    const tokens = words(rng, 2 + rng.int(5)).split(' ');
    return { tokens, tags: tokens.map(() => TAGS[rng.int(TAGS.length)]) };
  });
  const m = modelDir('ner', 'sequence_labeling', 'bow', train, {});
  const nlp = await pipeline(m.dir);
  try {
    const texts = ['ab  cd ef gh ij', 'kl mn op qr st ab cd'];
    const batch = (await nlp(texts)) as {
      entity_group: string;
      word: string;
      start: number;
      end: number;
      score: null;
    }[][];
    assert.equal(batch.length, 2);
    let seen = 0;
    batch.forEach((ents, i) => {
      const tokens = texts[i].split(/\s+/);
      const p = m.task.predict(m.model, [m.task.encode({ tokens })])[0];
      assert.deepEqual(
        ents.map((e) => e.entity_group),
        p.entities.map((e: { type: string }) => e.type),
      );
      for (const e of ents) {
        seen++;
        assert.equal(texts[i].slice(e.start, e.end), e.word);
        assert.ok(['LOC', 'PER'].includes(e.entity_group));
        assert.equal(e.score, null);
      }
    });
    assert.ok(seen > 0, 'the random model finds some entities in 12 tokens');
  } finally {
    await nlp.dispose();
  }
});

test('reading comprehension {answer, score, start, end}, matching {score}, generation [{generated_text}]', async () => {
  const rng = new Rng(4);
  const rcTrain = Array.from({ length: 20 }, (_, i) => {
    const context = words(rng, 6);
    return {
      id: `q${i}`,
      question: words(rng, 2),
      context,
      answers: [{ text: context.split(' ')[0], start: 0 }],
      isImpossible: false,
    };
  });
  const rc = modelDir('rc', 'reading_comprehension', 'bow', rcTrain, {
    dataset: { max_len: 24, max_question_len: 4, doc_stride: 5 },
  });
  const qa = await pipeline(rc.dir);
  try {
    const context = 'ab cd ef gh ij kl';
    const a = (await qa({ question: 'cd ef', context })) as {
      answer: string;
      score: number;
      start: number;
      end: number;
    };
    const p = rc.task.predict(rc.model, [rc.task.encode({ id: 'x', question: 'cd ef', context, answers: [] })])[0];
    assert.equal(a.answer, p.answer);
    assert.equal(context.slice(a.start, a.end), a.answer);
    assert.ok(Number.isFinite(a.score));
  } finally {
    await qa.dispose();
  }

  const matchTrain = Array.from({ length: 20 }, (_, i) => ({
    textA: words(rng, 3),
    textB: words(rng, 3),
    score: i % 2,
  }));
  const mm = modelDir('match', 'text_matching', 'bow', matchTrain);
  const match = await pipeline(mm.dir);
  try {
    const r = (await match([{ text: 'ab cd', text_pair: 'ab ef' }])) as { score: number }[];
    const p = mm.task.predict(mm.model, [mm.task.encode({ textA: 'ab cd', textB: 'ab ef' })])[0];
    assert.deepEqual(Object.keys(r[0]), ['score']);
    assert.ok(Math.abs(r[0].score - p.score) < 1e-6);
  } finally {
    await match.dispose();
  }

  const genTrain = Array.from({ length: 20 }, () => {
    const s = words(rng, 3);
    return { source: s, target: s.split(' ').reverse().join(' ') };
  });
  const gm = modelDir('gen', 'text_generation', 'gru', genTrain, {
    generation: { beam_size: 2, max_length: 5 },
  });
  const gen = await pipeline(gm.dir);
  try {
    const r = (await gen('ab cd ef')) as { generated_text: string }[];
    const p = gm.task.predict(gm.model, [gm.task.encode({ source: 'ab cd ef' })])[0];
    assert.deepEqual(r, [{ generated_text: p.text }]);
  } finally {
    await gen.dispose();
  }
});
