/**
 * What every optimizer shares: a parameter list (with per-parameter weight decay), a step count, and
 * a state that can be saved into a checkpoint and restored bit-exactly on resume.
 */
import type { Tensor } from '../tensor.js';

export interface ParamGroup {
  params: Tensor[];
  weightDecay?: number;
  /**
   * Tables of which a batch reads a few rows (embeddings): AdamW steps only the rows with a nonzero
   * gradient (LazyAdam; see AdamW for what that changes). Default false.
   */
  rowWise?: boolean;
}

export interface OptimizerState {
  step: number;
  /** Named state tensors (e.g. `exp_avg.3`), saved to safetensors by the checkpoint writer. */
  tensors: Map<string, Tensor>;
}

export abstract class Optimizer {
  readonly params: Tensor[] = [];
  readonly weightDecays: number[] = [];
  readonly rowWise: boolean[] = [];
  stepCount = 0;
  learningRate: number;

  protected constructor(groups: ParamGroup[], learningRate: number, defaultDecay: number) {
    this.learningRate = learningRate;
    for (const g of groups) {
      for (const p of g.params) {
        this.params.push(p);
        this.weightDecays.push(g.weightDecay ?? defaultDecay);
        this.rowWise.push(g.rowWise ?? false);
      }
    }
  }

  abstract step(): void;
  abstract state(): OptimizerState;
  abstract loadState(state: OptimizerState): void;
}
