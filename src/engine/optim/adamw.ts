/**
 * AdamW (decoupled weight decay), stepped in one native call over all parameters. The moment tensors
 * live here, visible to TypeScript, so checkpoints can save and restore them.
 *
 * Row-wise groups (ParamGroup.rowWise: embedding tables of which a batch reads a few rows) are stepped as
 * LazyAdam (TensorFlow Addons): only the rows whose gradient is nonzero get the update — weight decay,
 * moments, weights — with the global step's bias correction; the other rows keep their weights and moments
 * as they are. Dense AdamW also keeps moving a row for a few dozen steps after a batch read it (its first
 * moment decays faster than its second), which gives a word seen once several steps' worth of update; the
 * lazy form gives it one. No preset net uses it: on Brown genres a BOW trained with its tables row-wise lost
 * 2.6 points (plain) and 0.8 points (word bigrams) against dense AdamW, and saved no measurable training
 * time on the loaded machine (docs/benchmarks.md).
 */
import { native } from '../native.js';
import { zeros } from '../create.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type OptimizerState, type ParamGroup } from './optimizer.js';
import { UserError } from '../../util/errors.js';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly expAvg: Tensor[];
  private readonly expAvgSq: Tensor[];

  constructor(groups: ParamGroup[] | Tensor[], opts: AdamWOptions) {
    super(asGroups(groups), opts.lr, opts.weightDecay ?? 0.01);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.expAvg = this.params.map((p) => zeros(p.shape, p.dtype).keep());
    this.expAvgSq = this.params.map((p) => zeros(p.shape, p.dtype).keep());
  }

  step(): void {
    this.stepCount++;
    native.adamw(
      this.params.map((p) => p.handle),
      this.expAvg.map((t) => t.handle),
      this.expAvgSq.map((t) => t.handle),
      this.weightDecays,
      this.stepCount,
      this.learningRate,
      this.beta1,
      this.beta2,
      this.eps,
      this.rowWise,
    );
  }

  state(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    this.expAvg.forEach((t, i) => tensors.set(`exp_avg.${i}`, t));
    this.expAvgSq.forEach((t, i) => tensors.set(`exp_avg_sq.${i}`, t));
    return { step: this.stepCount, tensors };
  }

  loadState(state: OptimizerState): void {
    this.stepCount = state.step;
    const load = (dst: Tensor[], prefix: string) =>
      dst.forEach((t, i) => {
        const src = state.tensors.get(`${prefix}.${i}`);
        if (!src) throw new UserError(`optimizer state: ${prefix}.${i} is missing`);
        t.copy_(src);
      });
    load(this.expAvg, 'exp_avg');
    load(this.expAvgSq, 'exp_avg_sq');
  }

  dispose(): void {
    for (const t of [...this.expAvg, ...this.expAvgSq]) t.dispose();
  }
}

export function asGroups(groups: ParamGroup[] | Tensor[]): ParamGroup[] {
  if (groups.length === 0) return [];
  return 'params' in groups[0] ? (groups as ParamGroup[]) : [{ params: groups as Tensor[] }];
}
