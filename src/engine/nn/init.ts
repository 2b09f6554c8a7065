/**
 * Parameter initialisers, matching PyTorch's defaults so that training behaves as users expect.
 */
import { zeros } from '../create.js';
import type { Tensor } from '../tensor.js';

/** U(−1/√fanIn, 1/√fanIn): PyTorch's default for Linear/Conv weights (kaiming_uniform with a=√5) and biases. */
export function uniformFanIn(shape: number[], fanIn: number): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return zeros(shape).uniform_(-bound, bound);
}

/** N(0, std²): BERT initialises every weight with std 0.02. */
export function normal(shape: number[], std: number): Tensor {
  return zeros(shape).normal_(0, std);
}
