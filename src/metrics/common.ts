/**
 * Small building blocks shared by the metric families: safe division, precision/recall/F1 from counts,
 * average ranks (for AUC and Spearman), and input checks that give the user a message to act on.
 */
import { UserError } from '../util/errors.js';

/** Precision, recall and F1 of one class, one label, one entity type, or an average of them. */
export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * a / b, with 0 when b is 0. Zero-division convention across alembic's metrics: a ratio with an empty
 * denominator (precision of a class never predicted, recall of a class never seen) counts as 0, like
 * scikit-learn's `zero_division=0`, so averages stay defined and an unseen class never looks perfect.
 */
export function safeDivide(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** Precision, recall and F1 from true-positive, false-positive and false-negative counts. */
export function prfFromCounts(tp: number, fp: number, fn: number): PRF {
  const precision = safeDivide(tp, tp + fp);
  const recall = safeDivide(tp, tp + fn);
  // 2TP / (2TP + FP + FN) equals the harmonic mean of P and R and is 0 when both are 0.
  const f1 = safeDivide(2 * tp, 2 * tp + fp + fn);
  return { precision, recall, f1 };
}

/** The unweighted mean of several P/R/F1 triples (macro average); all zero when there are none. */
export function meanPRF(items: readonly PRF[]): PRF {
  const n = items.length;
  const sum = (pick: (x: PRF) => number) =>
    safeDivide(
      items.reduce((s, x) => s + pick(x), 0),
      n,
    );
  return { precision: sum((x) => x.precision), recall: sum((x) => x.recall), f1: sum((x) => x.f1) };
}

/**
 * 1-based ranks of `values` in ascending order; tied values all get the mean of the ranks they span
 * (e.g. [10, 20, 20, 30] → [1, 2.5, 2.5, 4]), as the Mann–Whitney statistic and Spearman's rho require.
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // mean of the 1-based positions i+1 .. j+1
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Throws unless two parallel lists (gold and predicted) have the same length. */
export function checkSameLength(what: string, gold: { length: number }, pred: { length: number }): void {
  if (gold.length !== pred.length) {
    throw new UserError(`${what}: ${gold.length} gold items but ${pred.length} predictions`);
  }
}

/** Throws unless `id` is an integer class/label id in [0, count). */
export function checkId(what: string, id: number, count: number, index: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= count) {
    throw new UserError(`${what}: item ${index}: id ${id} is not in 0..${count - 1}`);
  }
}

/** Throws unless every value is a finite number (NaN would silently poison sums and sorts). */
export function checkFinite(what: string, values: readonly number[]): void {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new UserError(`${what}: item ${bad}: ${values[bad]} is not a finite number`);
}

/** The display name of class/label `id`: its given name, or the id itself. */
export function nameOf(id: number, names: readonly string[] | undefined): string {
  return names?.[id] ?? String(id);
}
