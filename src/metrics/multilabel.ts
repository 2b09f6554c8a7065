/**
 * Multi-label classification metrics. Each example's gold and predicted labels are a set of label ids
 * in [0, numLabels); use indicatorToLabelSets for 0/1 matrices and thresholdProbabilities for scores.
 * Zero-division convention: a ratio with an empty denominator is 0 (see safeDivide in common.ts) —
 * including an example with no gold and no predicted labels, as scikit-learn's zero_division=0 does.
 */
import { UserError } from '../util/errors.js';
import {
  checkFinite,
  checkId,
  checkSameLength,
  meanPRF,
  nameOf,
  prfFromCounts,
  safeDivide,
  type PRF,
} from './common.js';

export type LabelSets = readonly (readonly number[])[];

export interface LabelMetrics extends PRF {
  label: string;
  support: number;
  predicted: number;
}

export interface MultiLabelReport {
  /** Fraction of examples whose predicted set equals the gold set exactly. */
  subsetAccuracy: number;
  /** Fraction of (example, label) cells predicted wrongly. */
  hammingLoss: number;
  /** Example-based: P, R, F1 computed per example, then averaged over examples. */
  example: PRF;
  perLabel: LabelMetrics[];
  /** Mean of per-label scores over labels present in gold or predictions. */
  macro: PRF;
  /** From counts pooled over all labels. */
  micro: PRF;
}

/** Rows of 0/1 indicators → the ids of the 1 columns. */
export function indicatorToLabelSets(matrix: readonly (readonly number[])[]): number[][] {
  return matrix.map((row, i) =>
    row.flatMap((v, j) => {
      if (v !== 0 && v !== 1) throw new UserError(`label matrix: row ${i}: column ${j}: ${v} is not 0 or 1`);
      return v === 1 ? [j] : [];
    }),
  );
}

/** The labels whose probability reaches the threshold (p >= threshold), per example. */
export function thresholdProbabilities(probs: readonly (readonly number[])[], threshold: number): number[][] {
  return probs.map((row) => row.flatMap((p, j) => (p >= threshold ? [j] : [])));
}

function toSets(what: string, sets: LabelSets, numLabels: number): Set<number>[] {
  return sets.map((ids, i) => {
    for (const id of ids) checkId(what, id, numLabels, i);
    return new Set(ids);
  });
}

function intersectionSize(a: Set<number>, b: Set<number>): number {
  let n = 0;
  for (const x of a) if (b.has(x)) n++;
  return n;
}

export function multiLabelReport(
  gold: LabelSets,
  pred: LabelSets,
  numLabels: number,
  labelNames?: readonly string[],
): MultiLabelReport {
  checkSameLength('multi-label', gold, pred);
  const goldSets = toSets('gold label', gold, numLabels);
  const predSets = toSets('predicted label', pred, numLabels);
  const tp = new Array<number>(numLabels).fill(0);
  const goldCount = new Array<number>(numLabels).fill(0);
  const predCount = new Array<number>(numLabels).fill(0);
  let exact = 0;
  let wrongCells = 0;
  const perExample: PRF[] = [];
  goldSets.forEach((g, i) => {
    const p = predSets[i];
    const both = intersectionSize(g, p);
    if (both === g.size && both === p.size) exact++;
    wrongCells += g.size + p.size - 2 * both;
    perExample.push(prfFromCounts(both, p.size - both, g.size - both));
    for (const id of g) goldCount[id]++;
    for (const id of p) {
      predCount[id]++;
      if (g.has(id)) tp[id]++;
    }
  });
  const perLabel: LabelMetrics[] = tp.map((t, id) => ({
    label: nameOf(id, labelNames),
    support: goldCount[id],
    predicted: predCount[id],
    ...prfFromCounts(t, predCount[id] - t, goldCount[id] - t),
  }));
  const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
  const tpAll = sum(tp);
  return {
    subsetAccuracy: safeDivide(exact, gold.length),
    hammingLoss: safeDivide(wrongCells, gold.length * numLabels),
    example: meanPRF(perExample),
    perLabel,
    macro: meanPRF(perLabel.filter((m) => m.support > 0 || m.predicted > 0)),
    micro: prfFromCounts(tpAll, sum(predCount) - tpAll, sum(goldCount) - tpAll),
  };
}

/**
 * The probability threshold (predict a label when p >= threshold) that maximises micro-F1 on the given
 * data. Without `candidates` every distinct probability is tried in one sorted sweep (O(N log N) for N
 * cells); the returned threshold is then the midpoint between the lowest included probability and the
 * next lower one, so it keeps the same decisions here but is not glued to one training score. Ties in
 * F1 keep the higher threshold (fewer predicted labels).
 */
export function bestThreshold(
  probs: readonly (readonly number[])[],
  gold: LabelSets,
  candidates?: readonly number[],
): { threshold: number; microF1: number } {
  checkSameLength('best threshold', gold, probs);
  const numLabels = probs[0]?.length ?? 0;
  const goldSets = toSets('gold label', gold, numLabels);
  const cells: { p: number; isGold: boolean }[] = [];
  probs.forEach((row, i) => {
    if (row.length !== numLabels) {
      throw new UserError(`best threshold: row ${i} has ${row.length} probabilities, expected ${numLabels}`);
    }
    checkFinite(`best threshold: row ${i}`, row);
    row.forEach((p, j) => cells.push({ p, isGold: goldSets[i].has(j) }));
  });
  const goldTotal = cells.filter((c) => c.isGold).length;
  if (candidates) return bestOfCandidates(cells, goldTotal, candidates);
  cells.sort((a, b) => b.p - a.p);
  let best = { threshold: cells.length > 0 ? cells[0].p : 0.5, microF1: 0 };
  let tp = 0;
  let i = 0;
  while (i < cells.length) {
    const value = cells[i].p;
    while (i < cells.length && cells[i].p === value) tp += cells[i++].isGold ? 1 : 0;
    const f1 = safeDivide(2 * tp, i + goldTotal); // i cells predicted positive so far
    if (f1 > best.microF1) {
      const next = i < cells.length ? cells[i].p : value;
      best = { threshold: (value + next) / 2, microF1: f1 };
    }
  }
  return best;
}

function bestOfCandidates(
  cells: { p: number; isGold: boolean }[],
  goldTotal: number,
  candidates: readonly number[],
): { threshold: number; microF1: number } {
  let best = { threshold: candidates[0] ?? 0.5, microF1: -1 };
  for (const t of [...candidates].sort((a, b) => b - a)) {
    let tp = 0;
    let predicted = 0;
    for (const c of cells) {
      if (c.p >= t) {
        predicted++;
        if (c.isGold) tp++;
      }
    }
    const f1 = safeDivide(2 * tp, predicted + goldTotal);
    if (f1 > best.microF1) best = { threshold: t, microF1: f1 };
  }
  return { threshold: best.threshold, microF1: Math.max(best.microF1, 0) };
}
