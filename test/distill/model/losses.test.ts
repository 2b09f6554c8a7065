import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { manualSeed, tensor } from '../../../src/engine/create.js';
import { tidy } from '../../../src/engine/scope.js';
import type { Tensor } from '../../../src/engine/tensor.js';
import { distillAdapter } from '../../../src/distill/model/adapter.js';
import { PredictionObjective, RelationObjective } from '../../../src/distill/model/objective.js';
import { softLabelLoss } from '../../../src/distill/soft-label-loss.js';
import { relationLoss } from '../../../src/distill/model/relation-loss.js';
import { relationProfile } from '../../../src/distill/model/relation-profile.js';
import { initialiseStudent, planStudent, teacherLayerMap } from '../../../src/distill/model/student.js';
import type { LayerTrace } from '../../../src/nets/transformer.js';
import { ClassificationTask, type ClassifierModel } from '../../../src/tasks/classification.js';
import { parseConfig } from '../../../src/config/run-config.js';
import { runTraining } from '../../../src/train/trainer.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir, writeSentimentSplits } from '../../helpers/tiny-data.js';

const close = (actual: number, expected: number, eps = 1e-5) =>
  assert.ok(Math.abs(actual - expected) < eps, `${actual} ≠ ${expected}`);

/** A trace of [B=1, T, H] projections from plain rows (one row per token). */
function trace(q: number[][], k: number[][], v: number[][]): LayerTrace {
  const t = (rows: number[][]) => tensor(rows.flat(), [1, rows.length, rows[0].length]);
  const query = t(q);
  return { query, key: t(k), value: t(v), output: query };
}

const mask3 = () => tensor([1, 1, 0], [1, 3], 'bool');

test('relation KL: a hand-computed case (one head, a padded token that must not count)', () => {
  // Teacher q·k rows: [ln3, 0] → (3/4, 1/4) and [0, 0] → (1/2, 1/2); the student's are both uniform.
  // Values are all 0 at real tokens for both, so v-v is uniform on both sides and adds nothing.
  // The third token is padding: wild values there change nothing.
  const teacher = trace([[1], [0], [5]], [[Math.log(3)], [0], [7]], [[0], [0], [9]]);
  const student = trace([[1], [1], [-4]], [[0], [0], [3]], [[0], [0], [-8]]);
  const row0 = 0.75 * Math.log(0.75 / 0.5) + 0.25 * Math.log(0.25 / 0.5);
  const expected = row0 / 2; // mean over the two real query rows
  tidy(() => {
    close(relationLoss(teacher, student, mask3(), { heads: 1, kinds: ['qk', 'vv'] }).item(), expected);
    close(relationLoss(teacher, student, mask3(), { heads: 1, kinds: ['vv'] }).item(), 0);
    // Reversed roles give KL(student ‖ teacher), which differs: the direction matters.
    const reversed = relationLoss(student, teacher, mask3(), { heads: 1, kinds: ['qk'] }).item();
    close(reversed, (0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25)) / 2);
  });
});

test('relation KL: relation heads are re-split from the hidden states and averaged', () => {
  // Hidden 2, two relation heads of one dimension: head 0 is the case above, head 1 identical on both sides.
  const teacher = trace(
    [
      [1, 2],
      [0, -1],
      [5, 5],
    ],
    [
      [Math.log(3), 1],
      [0, 3],
      [7, 7],
    ],
    [
      [0, 1],
      [0, 2],
      [9, 9],
    ],
  );
  const student = trace(
    [
      [1, 2],
      [1, -1],
      [0, 0],
    ],
    [
      [0, 1],
      [0, 3],
      [0, 0],
    ],
    [
      [0, 1],
      [0, 2],
      [1, 1],
    ],
  );
  const row0 = 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5);
  tidy(() =>
    close(relationLoss(teacher, student, mask3(), { heads: 2, kinds: ['qk', 'vv'] }).item(), row0 / 4),
  );
});

/** Plain-number MiniLM relation KL, for comparing shapes the hand case cannot cover. */
function referenceKl(t: number[][][], s: number[][][], len: number, heads: number): number {
  const rel = (a: number[][], b: number[][], h: number, i: number) => {
    const d = a[0].length / heads;
    const scores = Array.from({ length: len }, (_, j) => {
      let dot = 0;
      for (let x = h * d; x < (h + 1) * d; x++) dot += a[i][x] * b[j][x];
      return dot / Math.sqrt(d);
    });
    const m = Math.max(...scores);
    const z = scores.reduce((acc, v) => acc + Math.exp(v - m), 0);
    return scores.map((v) => Math.exp(v - m) / z);
  };
  let sum = 0;
  for (const [x, y] of [
    [0, 1],
    [2, 2],
  ]) {
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < len; i++) {
        const p = rel(t[x], t[y], h, i);
        const q = rel(s[x], s[y], h, i);
        sum += p.reduce((acc, pj, j) => acc + pj * Math.log(pj / q[j]), 0);
      }
  }
  return sum / (len * heads);
}

test('relation KL: a teacher and a student of different widths give one loss, as a reference computes it', () => {
  const rng = new Rng(3);
  const rand = (rows: number, cols: number) =>
    Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.next() * 2 - 1));
  const time = 4;
  const t = [rand(time, 8), rand(time, 8), rand(time, 8)];
  const s = [rand(time, 4), rand(time, 4), rand(time, 4)];
  const expected = referenceKl(t, s, 3, 2);
  tidy(() => {
    const loss = relationLoss(
      trace(t[0], t[1], t[2]),
      trace(s[0], s[1], s[2]),
      tensor([1, 1, 1, 0], [1, 4], 'bool'),
      {
        heads: 2,
        kinds: ['qk', 'vv'],
      },
    );
    close(loss.item(), expected, 1e-4);
  });
});

test('soft-label loss: hand-computed cross-entropy at temperature 1 and 2, and multi-label', () => {
  tidy(() => {
    const student = tensor([0, 0], [1, 2]);
    const teacher = tensor([Math.log(3), 0], [1, 2]);
    // −(3/4·ln ½ + 1/4·ln ½) = ln 2, whatever the teacher's distribution, when the student is uniform.
    close(softLabelLoss(student, teacher, { temperature: 1 }).item(), Math.log(2));
    close(softLabelLoss(student, teacher, { temperature: 2 }).item(), 4 * Math.log(2)); // × T²
    // Not uniform: student (1/4, 3/4) against teacher (3/4, 1/4).
    const s2 = tensor([0, Math.log(3)], [1, 2]);
    close(
      softLabelLoss(s2, teacher, { temperature: 1 }).item(),
      -(0.75 * Math.log(0.25) + 0.25 * Math.log(0.75)),
    );
    // Multi-label: each label a sigmoid; teacher σ(ln 3) = 3/4 against the student's ½.
    close(
      softLabelLoss(tensor([0], [1, 1]), tensor([Math.log(3)], [1, 1]), {
        temperature: 1,
        multiLabel: true,
      }).item(),
      Math.log(2),
    );
    // Masked rows do not count.
    const rows = tensor([0, 0, 5, -5], [2, 2]);
    const t2 = tensor([Math.log(3), 0, 0, 0], [2, 2]);
    close(softLabelLoss(rows, t2, { temperature: 1, rowMask: tensor([1, 0]) }).item(), Math.log(2));
  });
});

// ---------------------------------------------------------------- real models

async function tinyTask(dir: string, model: Record<string, unknown>) {
  const files = writeSentimentSplits(dir, { train: 40, dev: 10, test: 10 });
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, max_len: 24 },
      model: { net: 'transformer', dropout: 0, ...model },
      trainer: {
        epochs: 1,
        batch_size: 8,
        learning_rate: 0.01,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
  const task = new ClassificationTask(config);
  const examples = await task.read(files.train, { labelled: true });
  task.fit(examples);
  return { task, config, examples, features: examples.map((e) => task.encode(e)) };
}

const TEACHER = { num_layers: 2, hidden_size: 16, num_heads: 2, ffn_size: 32 };
const STUDENT = { num_layers: 1, hidden_size: 8, num_heads: 2, ffn_size: 16 };

function snapshot(m: { stateDict(): Map<string, Tensor> }): Map<string, Buffer> {
  return new Map([...m.stateDict()].map(([k, v]) => [k, Buffer.from(v.toBytes())]));
}

test('a student that is the teacher has zero relation loss and no soft-label gradient', async () => {
  const dir = tempDir();
  const { task, features } = await tinyTask(dir, TEACHER);
  manualSeed(1);
  const teacher = task.buildModel();
  const twin = task.buildModel();
  twin.loadStateDict(teacher.stateDict());
  const adapter = distillAdapter(task);
  const batch = features.slice(0, 8);
  for (const heads of [1, 2, 4]) {
    const rel = new RelationObjective(twin, teacher, adapter, {
      heads,
      teacherLayer: 1,
      kinds: ['qk', 'vv', 'qq', 'kk'],
    });
    twin.eval();
    close(
      tidy(() => rel.loss(batch).item()),
      0,
      1e-6,
    );
  }
  const pred = new PredictionObjective(twin, teacher, adapter, {
    temperature: 2,
    soft_weight: 1,
    hard_weight: 0,
  });
  tidy(() => {
    const { soft } = pred.parts(batch);
    soft.backward();
    const w = twin.classifier.weight.grad!;
    assert.ok(w.abs().max().item() < 1e-6, 'no gradient at the minimum of the soft-label loss');
  });
});

test('gradients reach the student only, and training leaves the teacher bit-identical', async () => {
  const dir = tempDir();
  const { task, config, examples, features } = await tinyTask(dir, TEACHER);
  manualSeed(2);
  const teacher = task.buildModel();
  const studentConfig = { ...config, model: { ...config.model, ...STUDENT } };
  const studentTask = new ClassificationTask(studentConfig, {
    dir: saveVocab(task, dir),
    state: task.state(),
  });
  const student = studentTask.buildModel();
  const adapter = distillAdapter(studentTask);
  const relation = new RelationObjective(student, teacher, adapter, {
    heads: 2,
    teacherLayer: 1,
    kinds: ['qk', 'vv'],
  });
  tidy(() => relation.loss(features.slice(0, 8)).backward());
  for (const [name, p] of teacher.namedParameters())
    assert.equal(p.grad, null, `teacher ${name} got a gradient`);
  const last = [...student.namedParameters()].filter(([n]) =>
    n.includes('layer.0.attention.self.query.weight'),
  );
  assert.ok(tidy(() => last[0][1].grad!.abs().sum().item()) > 0, 'the student gets a gradient');
  // The objective's parameters are exactly the student's, so the optimizer cannot reach the teacher.
  assert.deepEqual(
    relation.parameters().map((p) => p.handle),
    student.parameters().map((p) => p.handle),
  );

  const before = snapshot(teacher);
  const studentBefore = snapshot(student);
  for (const objective of [
    relation,
    new PredictionObjective(student, teacher, adapter, { temperature: 2, soft_weight: 1, hard_weight: 1 }),
  ]) {
    await runTraining(
      {
        config: { ...studentConfig, trainer: { ...config.trainer, output_dir: tempDir() } },
        task: studentTask,
        model: student,
        objective,
        train: { examples, features },
      },
      { quiet: true, log: () => {} },
    );
  }
  assert.deepEqual(snapshot(teacher), before, 'teacher weights changed');
  assert.notDeepEqual(snapshot(student), studentBefore, 'the student did not learn');
});

function saveVocab(task: ClassificationTask, dir: string): string {
  const d = path.join(dir, 'teacher-files');
  mkdirSync(d, { recursive: true });
  task.save(d);
  return d;
}

test('student from the teacher: every k-th layer, embeddings and head copied', async () => {
  const dir = tempDir();
  const { task, config } = await tinyTask(dir, { ...TEACHER, num_layers: 6 });
  assert.deepEqual(teacherLayerMap(2, 6), [2, 5]);
  assert.deepEqual(teacherLayerMap(4, 6), [0, 2, 3, 5]);
  assert.deepEqual(teacherLayerMap(3, 3), [0, 1, 2]);
  manualSeed(3);
  const teacher = task.buildModel() as ClassifierModel;
  const plan = planStudent(
    { layers: 2, hidden: 16, heads: 2, ffn: 32, dropout: 0, init: 'auto' },
    { layers: 6, hidden: 16, heads: 2, ffn: 32, maxPositions: config.model.max_positions },
  );
  assert.equal(plan.init, 'teacher');
  const studentTask = new ClassificationTask(
    { ...config, model: { ...config.model, num_layers: 2 } },
    { dir: saveVocab(task, dir), state: task.state() },
  );
  const student = studentTask.buildModel();
  const how = initialiseStudent(student, teacher, plan, distillAdapter(studentTask));
  assert.match(how, /teacher layers 3, 6 of 6/);
  const t = teacher.stateDict();
  const s = student.stateDict();
  const same = (a: string, b: string) =>
    assert.deepEqual(s.get(a)!.toArray(), t.get(b)!.toArray(), `${a} ← ${b}`);
  same(
    'encoder.encoder.layer.0.attention.self.query.weight',
    'encoder.encoder.layer.2.attention.self.query.weight',
  );
  same('encoder.encoder.layer.1.output.dense.weight', 'encoder.encoder.layer.5.output.dense.weight');
  same('encoder.embeddings.word_embeddings.weight', 'encoder.embeddings.word_embeddings.weight');
  same('classifier.weight', 'classifier.weight');
  // Narrower than the teacher: random, with the guide's warning.
  const narrow = planStudent(
    { layers: 2, hidden: 8, heads: 2, ffn: 16, dropout: 0, init: 'auto' },
    { layers: 6, hidden: 16, heads: 2, ffn: 32, maxPositions: 512 },
  );
  assert.equal(narrow.init, 'random');
  assert.match(narrow.warnings[0], /not guaranteed/);
});

test("TD2 computes each example's soft labels once and reuses them", async () => {
  const dir = tempDir();
  const { task, features } = await tinyTask(dir, TEACHER);
  manualSeed(4);
  const teacher = task.buildModel();
  const student = task.buildModel();
  const adapter = distillAdapter(task);
  const objective = new PredictionObjective(student, teacher, adapter, {
    temperature: 1,
    soft_weight: 1,
    hard_weight: 1,
  });
  const batch = features.slice(0, 6);
  const direct = tidy(() => {
    teacher.eval();
    return adapter.forward(teacher, batch).logits.toArray();
  });
  const first = tidy(() => objective.teacherLogits(batch.slice(0, 3)).toArray());
  const mixed = tidy(() => objective.teacherLogits([...batch].reverse()).toArray());
  const k = direct.length / 6;
  first.forEach((v, i) => close(v, direct[i], 1e-5));
  for (let r = 0; r < 6; r++)
    for (let c = 0; c < k; c++) close(mixed[r * k + c], direct[(5 - r) * k + c], 1e-5);
  // Kept rows are not recomputed: a changed teacher does not show for examples already seen.
  teacher.classifier.weight.fill_(0);
  teacher.classifier.bias!.fill_(0);
  const again = tidy(() => objective.teacherLogits(batch).toArray());
  again.forEach((v, i) => close(v, direct[i], 1e-5));
});

test('relation profile: a layer whose projections are zero relates tokens uniformly (share 1)', async () => {
  const dir = tempDir();
  const { task, features } = await tinyTask(dir, TEACHER);
  manualSeed(5);
  const teacher = task.buildModel() as ClassifierModel;
  const adapter = distillAdapter(task);
  const layer = adapter.encoder(teacher).layers[1];
  for (const l of [layer.self.query, layer.self.key, layer.self.value]) {
    l.weight.fill_(0);
    l.bias!.fill_(0);
  }
  const profile = relationProfile(teacher, adapter, features.slice(0, 8), 2, ['qk', 'vv']);
  assert.equal(profile.length, 2);
  close(profile[1], 1, 1e-5);
  assert.ok(profile[0] < 1 && profile[0] > 0.5, `layer 1: ${profile[0]}`);
});
