/** SGD with optional (Nesterov) momentum and L2 weight decay, stepped in one native call. */
import { native } from '../native.js';
import { zeros } from '../create.js';
import type { Tensor } from '../tensor.js';
import { UserError } from '../../util/errors.js';
import { asGroups } from './adamw.js';
import { Optimizer, type OptimizerState, type ParamGroup } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;
  private readonly buffers: Tensor[];

  constructor(groups: ParamGroup[] | Tensor[], opts: SgdOptions) {
    super(asGroups(groups), opts.lr, opts.weightDecay ?? 0);
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.buffers = this.momentum ? this.params.map((p) => zeros(p.shape, p.dtype).keep()) : [];
  }

  step(): void {
    this.stepCount++;
    // The native step takes one decay for all; group the call by decay value (usually one or two groups).
    const byDecay = new Map<number, number[]>();
    this.weightDecays.forEach((d, i) => byDecay.set(d, [...(byDecay.get(d) ?? []), i]));
    for (const [decay, idx] of byDecay) {
      native.sgd(
        idx.map((i) => this.params[i].handle),
        this.momentum ? idx.map((i) => this.buffers[i].handle) : [],
        decay,
        this.learningRate,
        this.momentum,
        this.nesterov,
      );
    }
  }

  state(): OptimizerState {
    return { step: this.stepCount, tensors: new Map(this.buffers.map((t, i) => [`momentum.${i}`, t])) };
  }

  loadState(state: OptimizerState): void {
    this.stepCount = state.step;
    this.buffers.forEach((t, i) => {
      const src = state.tensors.get(`momentum.${i}`);
      if (!src) throw new UserError(`optimizer state: momentum.${i} is missing`);
      t.copy_(src);
    });
  }
}
