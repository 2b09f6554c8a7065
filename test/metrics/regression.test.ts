import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  meanAbsoluteError,
  meanSquaredError,
  pearson,
  regressionReport,
  spearman,
} from '../../src/metrics/index.js';
import { UserError } from '../../src/util/errors.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);

test('MSE, MAE, Pearson and Spearman on a small example', () => {
  const gold = [1, 2, 3, 4];
  const pred = [1, 3, 2, 5];
  const r = regressionReport(gold, pred);
  close(r.mse, 0.75); // (0 + 1 + 1 + 1)/4
  close(r.mae, 0.75);
  // dx = [-1.5, -.5, .5, 1.5], dy = [-1.75, .25, -.75, 2.25] (means 2.5, 2.75)
  // Σdxdy = 2.625 − .125 − .375 + 3.375 = 5.5; Σdx² = 5; Σdy² = 8.75 → r = 5.5/√43.75
  close(r.pearson, 5.5 / Math.sqrt(43.75));
  // ranks [1,2,3,4] vs [1,3,2,4]: Σd² = 2 → rho = 1 − 6·2/(4·15) = 0.8
  close(r.spearman, 0.8);
});

test('Spearman uses average ranks on ties', () => {
  // ranks x = [1, 2.5, 2.5, 4]; y = [1, 2, 3, 4]; dx = [-1.5, 0, 0, 1.5], dy = [-1.5, -.5, .5, 1.5]
  // Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5 → 4.5/√22.5 = 0.948683 (scipy.stats.spearmanr agrees)
  close(spearman([1, 2, 2, 3], [1, 2, 3, 4]), 4.5 / Math.sqrt(22.5));
  close(spearman([1, 2, 3], [30, 20, 10]), -1);
  close(pearson([1, 2, 3], [2, 4, 6]), 1);
});

test('degenerate inputs: constant, too short, empty, non-finite', () => {
  assert.equal(pearson([1, 2, 3], [5, 5, 5]), 0);
  assert.equal(spearman([7, 7], [1, 2]), 0);
  assert.equal(pearson([1], [2]), 0);
  assert.equal(meanSquaredError([], []), 0);
  assert.equal(meanAbsoluteError([], []), 0);
  assert.throws(() => meanSquaredError([1, Number.NaN], [1, 2]), UserError);
  assert.throws(() => pearson([1, 2], [1]), UserError);
});
