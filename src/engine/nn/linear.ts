import { linear } from '../functional.js';
import type { Tensor } from '../tensor.js';
import { uniformFanIn } from './init.js';
import { Module } from './module.js';

/** y = x Wᵀ + b; weight [out, in] (torch layout). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    this.weight = this.param('weight', uniformFanIn([outFeatures, inFeatures], inFeatures));
    this.bias = bias ? this.param('bias', uniformFanIn([outFeatures], inFeatures)) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
