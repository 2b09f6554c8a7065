/**
 * Metrics for real-valued scores (regression, semantic similarity such as STS-B): mean squared error,
 * mean absolute error, Pearson's r and Spearman's rho.
 * Degenerate inputs: with fewer than two items, or when gold or predictions are constant, a correlation
 * is undefined; we return 0 (no measurable association) so early stopping on it never sees NaN.
 */
import { averageRanks, checkFinite, checkSameLength, safeDivide } from './common.js';

export interface RegressionReport {
  mse: number;
  mae: number;
  pearson: number;
  spearman: number;
}

function checkPair(what: string, gold: readonly number[], pred: readonly number[]): void {
  checkSameLength(what, gold, pred);
  checkFinite(`${what} gold`, gold);
  checkFinite(`${what} predictions`, pred);
}

/** Mean of (gold − pred)² (0 for no items). */
export function meanSquaredError(gold: readonly number[], pred: readonly number[]): number {
  checkPair('MSE', gold, pred);
  return safeDivide(
    gold.reduce((s, g, i) => s + (g - pred[i]) ** 2, 0),
    gold.length,
  );
}

/** Mean of |gold − pred| (0 for no items). */
export function meanAbsoluteError(gold: readonly number[], pred: readonly number[]): number {
  checkPair('MAE', gold, pred);
  return safeDivide(
    gold.reduce((s, g, i) => s + Math.abs(g - pred[i]), 0),
    gold.length,
  );
}

/** Pearson's correlation coefficient r = cov(x, y) / (σx σy); 0 when either side is constant. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  checkPair('Pearson', x, y);
  const n = x.length;
  if (n < 2) return 0;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return 0;
  // Clamp: rounding can push a perfect correlation a hair past ±1.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Spearman's rho: Pearson's r of the average ranks, so ties are handled like scipy.stats.spearmanr. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPair('Spearman', x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

export function regressionReport(gold: readonly number[], pred: readonly number[]): RegressionReport {
  return {
    mse: meanSquaredError(gold, pred),
    mae: meanAbsoluteError(gold, pred),
    pearson: pearson(gold, pred),
    spearman: spearman(gold, pred),
  };
}
