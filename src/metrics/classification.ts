/**
 * Single-label classification metrics: accuracy, per-class and averaged precision/recall/F1, the
 * confusion matrix, ROC AUC for binary tasks and log-loss. Class ids are integers in [0, numClasses).
 * Zero-division convention: a ratio with an empty denominator is 0 (see safeDivide in common.ts).
 */
import { UserError } from '../util/errors.js';
import {
  averageRanks,
  checkFinite,
  checkId,
  checkSameLength,
  meanPRF,
  nameOf,
  prfFromCounts,
  safeDivide,
  type PRF,
} from './common.js';

/** Scores of one class; `support` is how many gold items have it, `predicted` how many predictions. */
export interface ClassMetrics extends PRF {
  label: string;
  support: number;
  predicted: number;
}

export interface ClassificationReport {
  accuracy: number;
  /** Number of scored items. */
  total: number;
  labels: string[];
  perClass: ClassMetrics[];
  /** Unweighted mean over the classes that occur in gold or predictions (F1 = mean of per-class F1). */
  macro: PRF;
  /** From pooled counts; for single-label data micro P = R = F1 = accuracy. */
  micro: PRF;
  /** Per-class scores weighted by support. */
  weighted: PRF;
  /** confusion[gold][pred] = count. */
  confusion: number[][];
}

/** Fraction of predictions equal to the gold class (0 for no items). */
export function accuracy(gold: readonly number[], pred: readonly number[]): number {
  checkSameLength('accuracy', gold, pred);
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === pred[i]) correct++;
  return safeDivide(correct, gold.length);
}

/** Counts with rows = gold class and columns = predicted class. */
export function confusionMatrix(
  gold: readonly number[],
  pred: readonly number[],
  numClasses: number,
): number[][] {
  checkSameLength('confusion matrix', gold, pred);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < gold.length; i++) {
    checkId('gold class', gold[i], numClasses, i);
    checkId('predicted class', pred[i], numClasses, i);
    m[gold[i]][pred[i]]++;
  }
  return m;
}

/**
 * Everything a classification evaluation reports. Macro averages cover the classes present in gold or
 * predictions (scikit-learn's default when it infers the labels), so a class absent from a small dev
 * set and never predicted does not drag the macro F1 down with a meaningless 0.
 */
export function classificationReport(
  gold: readonly number[],
  pred: readonly number[],
  numClasses: number,
  labelNames?: readonly string[],
): ClassificationReport {
  const confusion = confusionMatrix(gold, pred, numClasses);
  const perClass: ClassMetrics[] = [];
  let tpSum = 0;
  for (let c = 0; c < numClasses; c++) {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((s, v) => s + v, 0);
    const predicted = confusion.reduce((s, row) => s + row[c], 0);
    tpSum += tp;
    perClass.push({
      label: nameOf(c, labelNames),
      support,
      predicted,
      ...prfFromCounts(tp, predicted - tp, support - tp),
    });
  }
  const present = perClass.filter((m) => m.support > 0 || m.predicted > 0);
  const total = gold.length;
  const weight = (pick: (m: ClassMetrics) => number) =>
    safeDivide(
      perClass.reduce((s, m) => s + pick(m) * m.support, 0),
      total,
    );
  return {
    accuracy: safeDivide(tpSum, total),
    total,
    labels: perClass.map((m) => m.label),
    perClass,
    macro: meanPRF(present),
    // Every error is one false positive (for the predicted class) and one false negative (for the gold one).
    micro: prfFromCounts(tpSum, total - tpSum, total - tpSum),
    weighted: {
      precision: weight((m) => m.precision),
      recall: weight((m) => m.recall),
      f1: weight((m) => m.f1),
    },
    confusion,
  };
}

/**
 * Area under the ROC curve for a binary task, from gold labels (0/1) and the predicted probability (or
 * any score) of the positive class. Computed as the Mann–Whitney U statistic with average ranks, so a
 * tie between a positive and a negative counts one half, exactly like the trapezoidal ROC area.
 * Returns NaN when gold has only one class: AUC is undefined there (scikit-learn raises instead).
 */
export function binaryAuc(gold: readonly number[], positiveScores: readonly number[]): number {
  checkSameLength('AUC', gold, positiveScores);
  checkFinite('AUC scores', positiveScores);
  const ranks = averageRanks(positiveScores);
  let positives = 0;
  let rankSum = 0;
  gold.forEach((g, i) => {
    if (g !== 0 && g !== 1) throw new UserError(`AUC: item ${i}: gold label ${g} is not 0 or 1`);
    if (g === 1) {
      positives++;
      rankSum += ranks[i];
    }
  });
  const negatives = gold.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  const u = rankSum - (positives * (positives + 1)) / 2; // pairs (pos, neg) ranked correctly; ties count 1/2
  return u / (positives * negatives);
}

/**
 * Mean negative log-probability of the gold class (natural log). Probabilities are clipped to
 * [eps, 1 − eps] like scikit-learn so one confident mistake gives a large but finite loss.
 */
export function logLoss(gold: readonly number[], probs: readonly (readonly number[])[], eps = 1e-15): number {
  checkSameLength('log-loss', gold, probs);
  if (gold.length === 0) return 0;
  let sum = 0;
  gold.forEach((g, i) => {
    checkId('gold class', g, probs[i].length, i);
    const p = Math.min(Math.max(probs[i][g], eps), 1 - eps);
    sum -= Math.log(p);
  });
  return sum / gold.length;
}
