// A classifier at chance (one class for everything, or no better than the majority class) is flagged,
// and a distillation report then claims nothing about how much of the teacher the student keeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareModels, type ModelEntry } from '../../src/distill/model/model-distill-report.js';
import { chanceVerdict, chanceWarning } from '../../src/metrics/chance.js';

const labels = ['neg', 'pos'];

test('predictions collapsed to one class are at chance, whatever the accuracy', () => {
  const v = chanceVerdict({
    labels,
    matrix: [
      [0, 30],
      [0, 70],
    ],
  });
  assert.equal(v.collapsedTo, 'pos');
  assert.equal(v.accuracy, 0.7);
  assert.equal(v.majorityShare, 0.7);
  assert.ok(v.atChance);
  assert.match(chanceWarning(v, 'the model')!, /predicts one class \("pos"\) for every example/);
});

test('a spread-out model no better than the majority class is at chance; a learnt one is not', () => {
  const weak = chanceVerdict({
    labels,
    matrix: [
      [10, 40],
      [10, 40],
    ],
  });
  assert.equal(weak.collapsedTo, undefined);
  assert.ok(weak.atChance);
  assert.match(chanceWarning(weak, 'the teacher')!, /at chance: accuracy 50\.0 %/);
  const good = chanceVerdict({
    labels,
    matrix: [
      [40, 10],
      [5, 45],
    ],
  });
  assert.ok(!good.atChance);
  assert.equal(chanceWarning(good, 'the model'), undefined);
});

test('distillation comparison: a teacher at chance is reported, not a retained share of it', () => {
  const entry = (role: ModelEntry['role'], accuracy: number, atChance?: string): ModelEntry => ({
    role,
    dir: role,
    shape: { layers: 1, hidden: 8, heads: 1, ffn: 16, maxPositions: 32 },
    parameters: role === 'teacher' ? 1000 : 100,
    metrics: { accuracy },
    ...(atChance ? { at_chance: atChance } : {}),
    speed: [],
  });
  const trained = compareModels([entry('teacher', 0.9), entry('student', 0.88)], 'accuracy');
  assert.equal(trained.teacher_at_chance, undefined);
  const untrained = compareModels(
    [entry('teacher', 0.5, 'the teacher is at chance'), entry('student', 0.5)],
    'accuracy',
  );
  assert.equal(untrained.teacher_at_chance, 'the teacher is at chance');
});
