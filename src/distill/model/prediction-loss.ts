/**
 * Prediction-layer distillation (TD2): the student's outputs against the teacher's "soft labels".
 *
 * Single-label rows (a text's classes, a token's tags): −Σ_c softmax(t/T)_c · log softmax(s/T)_c.
 * Multi-label rows: each label is its own two-class problem, binary cross-entropy of sigmoid(s/T)
 * against sigmoid(t/T). Both are multiplied by T² (Hinton et al.), so that the gradients keep their
 * size when the temperature changes and the weights against the hard-label loss stay meaningful.
 */
import { F } from '../../engine/index.js';
import type { Tensor } from '../../engine/tensor.js';

export interface SoftLabelOptions {
  temperature: number;
  /** Per-label sigmoids instead of one softmax per row. */
  multiLabel?: boolean;
  /** float [N]: 1 for rows that count (real tokens), 0 for padding; default every row. */
  rowMask?: Tensor;
}

/** student and teacher logits [N, C]; the teacher's should carry no gradient. */
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
