import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bestThreshold,
  indicatorToLabelSets,
  multiLabelReport,
  thresholdProbabilities,
} from '../../src/metrics/index.js';
import { UserError } from '../../src/util/errors.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);

test('multi-label report: example-based, label-based, subset accuracy, hamming loss', () => {
  const gold = [[0, 1], [2], [], [0]];
  const pred = [[0], [1, 2], [], [0, 2]];
  const r = multiLabelReport(gold, pred, 3, ['a', 'b', 'c']);
  // Per example (P, R, F1): {0,1}/{0} → (1, .5, 2/3); {2}/{1,2} → (.5, 1, 2/3);
  // {}/{} → (0, 0, 0) by the zero-division convention; {0}/{0,2} → (.5, 1, 2/3)
  close(r.example.precision, (1 + 0.5 + 0 + 0.5) / 4);
  close(r.example.recall, (0.5 + 1 + 0 + 1) / 4);
  close(r.example.f1, (3 * (2 / 3)) / 4);
  close(r.subsetAccuracy, 1 / 4); // only the empty/empty example matches exactly
  close(r.hammingLoss, 3 / 12); // one wrong cell in examples 0, 1 and 3, of 4 × 3 cells
  // label a: tp 2 of 2 predicted, 2 gold → 1; b: tp 0, 1 predicted, 1 gold → 0; c: tp 1, 2 predicted, 1 gold
  assert.deepEqual(
    r.perLabel.map((m) => [m.label, m.support, m.predicted]),
    [
      ['a', 2, 2],
      ['b', 1, 1],
      ['c', 1, 2],
    ],
  );
  close(r.perLabel[0].f1, 1);
  close(r.perLabel[1].f1, 0);
  close(r.perLabel[2].precision, 0.5);
  close(r.perLabel[2].f1, 2 / 3);
  close(r.macro.precision, 0.5); // (1 + 0 + .5)/3
  close(r.macro.recall, 2 / 3); // (1 + 0 + 1)/3
  close(r.macro.f1, 5 / 9); // (1 + 0 + 2/3)/3
  // micro: tp 3, predicted 5, gold 4 → P .6, R .75, F1 = 6/9
  close(r.micro.precision, 0.6);
  close(r.micro.recall, 0.75);
  close(r.micro.f1, 2 / 3);
});

test('multi-label edge cases', () => {
  const empty = multiLabelReport([], [], 4);
  assert.equal(empty.subsetAccuracy, 0);
  assert.equal(empty.hammingLoss, 0);
  assert.equal(empty.micro.f1, 0);
  const wrong = multiLabelReport([[0], [1]], [[1], [0]], 2);
  assert.equal(wrong.micro.f1, 0);
  assert.equal(wrong.hammingLoss, 1);
  assert.throws(() => multiLabelReport([[5]], [[0]], 3), /id 5 is not in 0..2/);
  assert.throws(() => multiLabelReport([[0]], [], 3), UserError);
});

test('indicator matrices and thresholds become label sets', () => {
  assert.deepEqual(
    indicatorToLabelSets([
      [1, 0, 1],
      [0, 0, 0],
    ]),
    [[0, 2], []],
  );
  assert.throws(() => indicatorToLabelSets([[2]]), /not 0 or 1/);
  assert.deepEqual(
    thresholdProbabilities(
      [
        [0.9, 0.2],
        [0.5, 0.7],
      ],
      0.5,
    ),
    [[0], [0, 1]],
  );
});

test('bestThreshold scans the distinct probabilities for micro-F1', () => {
  const probs = [
    [0.9, 0.2],
    [0.6, 0.7],
    [0.3, 0.1],
  ];
  const gold = [[0], [1], []];
  // Sorted cells: .9 (gold) .7 (gold) .6 .3 .2 .1; two gold cells.
  // p >= .9: tp 1, predicted 1 → 2/(1+2) = .667; p >= .7: tp 2, predicted 2 → 4/4 = 1 (best);
  // returned threshold = midpoint of .7 and the next lower .6
  const best = bestThreshold(probs, gold);
  close(best.threshold, 0.65);
  close(best.microF1, 1);
  assert.deepEqual(thresholdProbabilities(probs, best.threshold), [[0], [1], []]);
  // A tie group takes gold and non-gold together: tp 1 of 2 predicted → 2/(2+1)
  const tied = bestThreshold([[0.5, 0.5]], [[0]]);
  close(tied.threshold, 0.5);
  close(tied.microF1, 2 / 3);
  // Given candidates: t = .8 → 2/(1+2) = .667; t = .5 → tp 2 of 3 predicted → 4/5 = .8
  const grid = bestThreshold(probs, gold, [0.5, 0.8]);
  assert.equal(grid.threshold, 0.5);
  close(grid.microF1, 0.8);
  assert.throws(() => bestThreshold([[0.5, 0.5], [0.1]], [[0], []]), /expected 2/);
});
