import { embedding } from '../functional.js';
import { noGrad } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { normal } from './init.js';
import { Module } from './module.js';

/** A lookup table [num, dim]; the padding row starts at zero and never receives gradient. */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number;

  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    { paddingIdx = -1, std = 1 }: { paddingIdx?: number; std?: number } = {},
  ) {
    super();
    this.paddingIdx = paddingIdx;
    this.weight = this.param('weight', normal([numEmbeddings, dim], std));
    if (paddingIdx >= 0) noGrad(() => this.weight.select(0, paddingIdx).fill_(0).dispose());
  }

  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids, this.paddingIdx);
  }
}
