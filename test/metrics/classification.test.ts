import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  averageRanks,
  binaryAuc,
  classificationReport,
  confusionMatrix,
  logLoss,
} from '../../src/metrics/index.js';
import { UserError } from '../../src/util/errors.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);

test('classification report on a 3-class example', () => {
  const gold = [0, 0, 0, 1, 1, 2];
  const pred = [0, 0, 1, 1, 2, 2];
  const r = classificationReport(gold, pred, 3, ['neg', 'neu', 'pos']);
  // Rows gold, columns pred: class0 → 0,0,1; class1 → 1,2; class2 → 2.
  assert.deepEqual(r.confusion, [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  close(r.accuracy, 4 / 6); // correct at positions 0, 1, 3, 5
  // class0: tp 2, predicted 2, support 3 → P 1, R 2/3, F1 = 2·2/(2·2+0+1) = 0.8
  // class1: tp 1, predicted 2, support 2 → P 1/2, R 1/2, F1 = 2/(2+1+1) = 0.5
  // class2: tp 1, predicted 2, support 1 → P 1/2, R 1, F1 = 2/(2+1+0) = 2/3
  assert.equal(r.perClass[0].label, 'neg');
  close(r.perClass[0].precision, 1);
  close(r.perClass[0].recall, 2 / 3);
  close(r.perClass[0].f1, 0.8);
  close(r.perClass[1].f1, 0.5);
  close(r.perClass[2].precision, 0.5);
  close(r.perClass[2].recall, 1);
  close(r.perClass[2].f1, 2 / 3);
  assert.deepEqual(
    r.perClass.map((c) => [c.support, c.predicted]),
    [
      [3, 2],
      [2, 2],
      [1, 2],
    ],
  );
  // macro P = (1 + .5 + .5)/3; R = (2/3 + 1/2 + 1)/3 = 13/18; F1 = (0.8 + 0.5 + 2/3)/3
  close(r.macro.precision, 2 / 3);
  close(r.macro.recall, 13 / 18);
  close(r.macro.f1, (0.8 + 0.5 + 2 / 3) / 3);
  // micro = accuracy for single-label data
  close(r.micro.precision, 4 / 6);
  close(r.micro.recall, 4 / 6);
  close(r.micro.f1, 4 / 6);
  // weighted by support 3, 2, 1: P = (3 + 1 + .5)/6 = .75; R = (2 + 1 + 1)/6; F1 = (2.4 + 1 + 2/3)/6
  close(r.weighted.precision, 0.75);
  close(r.weighted.recall, 4 / 6);
  close(r.weighted.f1, (2.4 + 1 + 2 / 3) / 6);
});

test('macro average skips a class absent from gold and predictions', () => {
  const with3 = classificationReport([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
  const with4 = classificationReport([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 4);
  close(with4.macro.f1, with3.macro.f1);
  assert.equal(with4.perClass[3].label, '3');
  assert.equal(with4.perClass[3].f1, 0);
});

test('zero division counts as 0 and empty input is all zeros', () => {
  // class1 is never predicted: P = 0/0 → 0, R = 0/1 = 0; class0: tp 1, predicted 2 → P .5, R 1, F1 2/3
  const r = classificationReport([0, 1], [0, 0], 2);
  assert.equal(r.perClass[1].precision, 0);
  assert.equal(r.perClass[1].recall, 0);
  assert.equal(r.perClass[1].f1, 0);
  close(r.perClass[0].f1, 2 / 3);
  close(r.macro.f1, 1 / 3); // (2/3 + 0) / 2
  const all = classificationReport([0, 0], [1, 1], 2); // all wrong
  assert.equal(all.accuracy, 0);
  assert.equal(all.macro.f1, 0);
  const empty = classificationReport([], [], 3);
  assert.equal(empty.accuracy, 0);
  assert.deepEqual(empty.macro, { precision: 0, recall: 0, f1: 0 });
  assert.equal(accuracy([], []), 0);
});

test('bad input is a UserError', () => {
  assert.throws(() => accuracy([0, 1], [0]), UserError);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /id 3 is not in 0..2/);
  assert.throws(() => confusionMatrix([0, 1.5], [0, 1], 3), UserError);
});

test('AUC is the Mann–Whitney statistic with ties counted one half', () => {
  // Pairs (pos, neg): .35 > .1, .35 < .4, .8 > .1, .8 > .4 → 3/4
  close(binaryAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  // Ranks: .2 → 1, .5/.5 → 2.5, .9 → 4; positive rank sum 6.5 − 2·3/2 = 3.5 of 4 pairs
  close(binaryAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]), 0.875);
  close(binaryAuc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]), 0.5);
  close(binaryAuc([1, 1, 0], [0.1, 0.2, 0.9]), 0); // every pair ordered wrongly
  assert.ok(Number.isNaN(binaryAuc([1, 1], [0.2, 0.3])));
  assert.throws(() => binaryAuc([0, 2], [0.1, 0.2]), /not 0 or 1/);
  assert.throws(() => binaryAuc([0, 1], [0.1, Number.NaN]), UserError);
});

test('average ranks give ties the mean of their positions', () => {
  assert.deepEqual(averageRanks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
  assert.deepEqual(averageRanks([3, 1, 3, 3]), [3, 1, 3, 3]); // 3s span ranks 2..4
  assert.deepEqual(averageRanks([]), []);
});

test('log-loss is the mean negative log-probability of the gold class, clipped', () => {
  // −(ln 0.8 + ln 0.6)/2 = (0.223144 + 0.510826)/2
  close(
    logLoss(
      [0, 1],
      [
        [0.8, 0.2],
        [0.4, 0.6],
      ],
    ),
    (-Math.log(0.8) - Math.log(0.6)) / 2,
  );
  close(logLoss([1], [[1, 0]]), -Math.log(1e-15)); // p = 0 clipped to 1e-15 → 34.54
  assert.equal(logLoss([], []), 0);
});
