import { rand } from '../create.js';
import { embedding } from '../functional.js';
import { noGrad } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { normal } from './init.js';
import { Module } from './module.js';

/** Word dropout: in training, each id not in `keep` is read as `to` with probability `p`. */
export interface TokenDropout {
  p: number;
  to: number;
  keep: readonly number[];
}

/**
 * A lookup table [num, dim]; the padding row starts at zero and never receives gradient. With `tokenDropout`
 * (training only) some ids are replaced before the lookup, so that row `to` ([UNK]) learns what an unseen
 * word looks like instead of keeping its random initial vector.
 */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number;
  tokenDropout: TokenDropout | undefined;

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
    const d = this.tokenDropout;
    if (!this.training || !d || d.p === 0) return embedding(this.weight, ids, this.paddingIdx);
    let drop = rand(ids.shape).lt(d.p);
    for (const id of d.keep) drop = drop.logicalAnd(ids.ne(id));
    return embedding(this.weight, ids.maskedFill(drop, d.to), this.paddingIdx);
  }
}
