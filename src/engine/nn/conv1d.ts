import { conv1d } from '../functional.js';
import type { Tensor } from '../tensor.js';
import { uniformFanIn } from './init.js';
import { Module } from './module.js';

/** 1-D convolution over [batch, channels, time]; weight [out, in, kernel]. */
export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly padding = 0,
  ) {
    super();
    const fanIn = inChannels * kernelSize;
    this.weight = this.param('weight', uniformFanIn([outChannels, inChannels, kernelSize], fanIn));
    this.bias = this.param('bias', uniformFanIn([outChannels], fanIn));
  }

  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, { padding: this.padding });
  }
}
