/**
 * The soft-label losses of distillation: a student's logits against a teacher's distribution at a
 * temperature T, multiplied by T² (Hinton et al. 2015) so that the gradients keep their size when T
 * changes and the weights against the hard-label loss stay meaningful. One module for both pipelines:
 *
 * - model distillation (TD2) compares with the teacher's logits by cross-entropy,
 *   −Σ_c softmax(t/T)_c · log softmax(s/T)_c; multi-label rows are each label's two-class problem,
 *   binary cross-entropy of sigmoid(s/T) against sigmoid(t/T).
 * - data distillation compares with the teacher's written probabilities q by KL divergence,
 *   KL(softmax(log q / T) ‖ softmax(s/T)), mixed per line with the hard label's cross-entropy by alpha.
 *
 * Cross-entropy and KL differ by the teacher's entropy, a constant for the student: the same gradients,
 * different values (KL is 0 when the student matches), hence the option rather than one formula.
 */
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/tensor.js';

export interface SoftLabelOptions {
  temperature: number;
  /** Data distillation: weight of the soft term for teacher-labelled lines; 1 − alpha goes to their hard label. */
  alpha?: number;
  /** How the student is compared with the teacher's distribution; default cross-entropy. */
  divergence?: 'cross_entropy' | 'kl';
  /** Per-label sigmoids instead of one softmax per row (cross-entropy only). */
  multiLabel?: boolean;
  /** float [N]: 1 for rows that count (real tokens), 0 for padding; default every row. */
  rowMask?: Tensor;
}

/** Student and teacher logits [N, C] → the mean soft-label loss × T²; the teacher carries no gradient. */
export function softLabelLoss(
  student: Tensor,
  teacher: Tensor,
  { temperature, multiLabel = false, rowMask }: SoftLabelOptions,
): Tensor {
  const t = temperature;
  const target = teacher.detach().div(t);
  const s = student.div(t);
  let perRow: Tensor; // [N]
  if (multiLabel) {
    perRow = F.binaryCrossEntropyWithLogits(s, target.sigmoid(), { reduction: 'none' }).mean(-1);
  } else {
    perRow = target.softmax(-1).mul(s.logSoftmax(-1)).sum(-1).neg();
  }
  const mean = rowMask ? perRow.mul(rowMask).sum().div(Math.max(rowMask.sum().item(), 1)) : perRow.mean();
  return mean.mul(t * t);
}

/** Student logits [N, C] and the teacher's tempered probabilities [N, C] → KL per row [N], not × T². */
export function softLabelKlRows(student: Tensor, tempered: Tensor, temperature: number): Tensor {
  const logStudent = student.div(temperature).logSoftmax(-1);
  return F.klDiv(logStudent, tempered, { reduction: 'none' }).sum(1);
}

/** softmax(log q / T): the teacher's distribution at temperature T (T = 1 leaves it as it is). */
export function tempered(q: readonly number[], t: number): number[] {
  if (t === 1) return [...q];
  const powered = q.map((p) => Math.pow(Math.max(p, 0), 1 / t));
  const sum = powered.reduce((s, p) => s + p, 0);
  return powered.map((p) => p / sum);
}
