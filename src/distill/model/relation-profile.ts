/**
 * How much each teacher layer's self-attention relations say: their mean entropy as a share of the
 * uniform distribution's (1 = every token relates equally to every other). A teacher trained on a
 * classification task often lets its last layers go uniform — only [CLS] matters there — and relation
 * distillation from such a layer teaches the student to blur its tokens together, which then hurts TD2.
 * The pipeline measures this before GED/TD1 and says so, naming the layer with the most structure.
 */
import { noGrad, tidy } from '../../engine/scope.js';
import type { TaskModel } from '../../tasks/task.js';
import type { DistillAdapter } from './adapter.js';
import type { RelationKind } from './model-distill-config.js';
import { relationLogProbs } from './relation-loss.js';

/** Per layer (0-based), entropy / log(length), averaged over relation kinds, heads and real rows. */
export function relationProfile(
  teacher: TaskModel<unknown>,
  adapter: DistillAdapter,
  features: readonly unknown[],
  heads: number,
  kinds: readonly RelationKind[],
): number[] {
  const operands: Record<RelationKind, ['query' | 'key' | 'value', 'query' | 'key' | 'value']> = {
    qk: ['query', 'key'],
    vv: ['value', 'value'],
    qq: ['query', 'query'],
    kk: ['key', 'key'],
  };
  teacher.eval();
  return noGrad(() =>
    tidy(() => {
      const input = adapter.encoderInput(teacher, [...features]);
      const layers = adapter.encoder(teacher).encode(input, { trace: true }).layers!;
      const rows = input.mask.float().unsqueeze(1); // [B,1,T]
      // log(length) of each query row's sequence: the entropy of a uniform relation row.
      const uniform = input.lengths.float().log().clamp(1e-6).unsqueeze(1).unsqueeze(2); // [B,1,1]
      const count = rows.sum().item() * heads;
      return layers.map((layer) => {
        let share = 0;
        for (const kind of kinds) {
          const [a, b] = operands[kind];
          const logP = relationLogProbs(layer[a], layer[b], input.mask, heads);
          const entropy = logP.exp().mul(logP).sum(-1).neg(); // [B,R,T]
          share += entropy.div(uniform).mul(rows).sum().item() / Math.max(count, 1);
        }
        return share / kinds.length;
      });
    }),
  );
}

/** Above this share of uniform entropy a layer's relations carry little to distil. */
export const NEAR_UNIFORM = 0.97;
