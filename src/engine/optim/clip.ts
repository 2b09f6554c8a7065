import { native } from '../native.js';
import type { Tensor } from '../tensor.js';

/** Scales all gradients so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return native.clipGradNorm(
    params.map((p) => p.handle),
    maxNorm,
  );
}

/** Drops every parameter's gradient (cheaper than zero-filling; the next backward allocates fresh). */
export function zeroGrad(params: Tensor[]): void {
  native.zeroGrad(params.map((p) => p.handle));
}
