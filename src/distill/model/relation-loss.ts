/**
 * Self-attention relation distillation (MiniLM / MiniLMv2), the loss of the GED and TD1 stages.
 *
 * For one Transformer layer, the query, key and value projections [B, T, H] are re-split into R
 * relation heads of H/R dimensions — R chosen here, not the model's attention heads, so a teacher and a
 * student of different widths and head counts give relations of the same shape [B, R, T, T]. A relation
 * is the scaled dot-product softmax(A·Bᵀ / √(H/R)) of two of them: q-k is the attention distribution,
 * v-v the value relation. The student's relation rows are pulled towards the teacher's with
 * KL(teacher ‖ student), averaged over heads and real (unpadded) query positions; padded keys get no
 * probability in either distribution, so padding takes no part at all.
 */
import type { Tensor } from '../../engine/tensor.js';
import type { LayerTrace } from '../../nets/transformer.js';
import { UserError } from '../../util/errors.js';
import type { RelationKind } from './model-distill-config.js';

export interface RelationOptions {
  /** Relation heads; must divide the hidden size of both traces. */
  heads: number;
  /** Which relations to distil; their KLs are summed. */
  kinds: readonly RelationKind[];
}

/** Added to the scores of padded keys: exp() of it is exactly 0 in float32, and it stays finite. */
const PAD_SCORE = -1e4;

const OPERANDS: Record<RelationKind, [keyof LayerTrace, keyof LayerTrace]> = {
  qk: ['query', 'key'],
  vv: ['value', 'value'],
  qq: ['query', 'query'],
  kk: ['key', 'key'],
};

/** [B, T, H] → [B, R, T, H/R]. */
export function splitRelationHeads(x: Tensor, heads: number): Tensor {
  const [batch, time, hidden] = x.shape;
  if (hidden % heads !== 0)
    throw new UserError(`relation.heads: ${heads} does not divide the hidden size ${hidden}`);
  return x.view(batch, time, heads, hidden / heads).transpose(1, 2);
}

/**
 * Log-probabilities of one relation, [B, R, T, T]: row i is the distribution over keys j of
 * softmax(a_i · b_j / √d) with padded keys left out. `mask` is bool [B, T], true on real tokens.
 */
export function relationLogProbs(a: Tensor, b: Tensor, mask: Tensor, heads: number): Tensor {
  const ha = splitRelationHeads(a, heads);
  const hb = splitRelationHeads(b, heads);
  const dim = ha.size(-1);
  const padBias = mask.logicalNot().float().mul(PAD_SCORE).unsqueeze(1).unsqueeze(1); // [B,1,1,T]
  return ha
    .matmul(hb.mT)
    .mul(1 / Math.sqrt(dim))
    .add(padBias)
    .logSoftmax(-1);
}

/**
 * Σ over kinds of KL(teacher ‖ student) per relation row, averaged over heads and real query positions.
 * The teacher's trace should come from a no-grad forward pass; gradients reach the student only.
 */
export function relationLoss(
  teacher: LayerTrace,
  student: LayerTrace,
  mask: Tensor,
  { heads, kinds }: RelationOptions,
): Tensor {
  const rows = mask.float().unsqueeze(1); // [B,1,T]: which query rows count
  const count = rows.sum().item() * heads;
  let total: Tensor | undefined;
  for (const kind of kinds) {
    const [x, y] = OPERANDS[kind];
    const logT = relationLogProbs(teacher[x], teacher[y], mask, heads).detach();
    const logS = relationLogProbs(student[x], student[y], mask, heads);
    // Σ_j p_t (log p_t − log p_s); padded keys have p_t = 0 and contribute nothing.
    const kl = logT.exp().mul(logT.sub(logS)).sum(-1); // [B,R,T]
    const term = kl.mul(rows).sum().div(Math.max(count, 1));
    total = total ? total.add(term) : term;
  }
  return total!;
}
