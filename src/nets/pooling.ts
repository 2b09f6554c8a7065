/**
 * Pooling over the time axis that respects padding: a text padded inside a batch with longer texts must
 * pool to exactly the vector it gets when encoded alone, so padding positions never contribute.
 *
 * Shapes: x [batch, time, dim], mask bool [batch, time] (true at real tokens). Every text has at least
 * one real token (EncoderInput.lengths ≥ 1); an all-padding row would give zeros for sum/mean and −∞
 * for max.
 *
 * Also the option checks the preset nets share.
 */
import { arange } from '../engine/create.js';
import type { Tensor } from '../engine/tensor.js';
import { UserError } from '../util/errors.js';

/** 1 at real tokens and 0 at padding, float [batch, time, 1], ready to broadcast over features. */
function tokenWeights(mask: Tensor): Tensor {
  return mask.float().unsqueeze(-1);
}

/** x with every padding position set to zero (embeddings of a padding id need not be zero themselves). */
export function zeroPadding(x: Tensor, mask: Tensor): Tensor {
  return x.mul(tokenWeights(mask));
}

/** Sum of the real-token vectors → [batch, dim]. */
export function maskedSum(x: Tensor, mask: Tensor): Tensor {
  return zeroPadding(x, mask).sum(1);
}

/** Mean of the real-token vectors → [batch, dim]. */
export function maskedMean(x: Tensor, mask: Tensor): Tensor {
  const weights = tokenWeights(mask);
  // clamp: an (invalid) empty row divides by 1 rather than producing NaN that would spread through the batch.
  const counts = weights.sum(1).clamp(1);
  return x.mul(weights).sum(1).div(counts);
}

/**
 * Σ w·x / Σ w over the real tokens → [batch, dim], for positive weights w [batch, time]. The clamp keeps an
 * (invalid) empty row at zero rather than NaN, as maskedMean's does.
 */
export function weightedMean(x: Tensor, w: Tensor, mask: Tensor): Tensor {
  const weights = w.mul(mask.float()).unsqueeze(-1);
  return x.mul(weights).sum(1).div(weights.sum(1).clamp(1e-12));
}

/**
 * Maximum over the real tokens → [batch, dim]. Padding is set to −∞ first rather than to zero, since
 * features may be negative (RNN outputs) and a zero at a padding position would then win the max.
 */
export function maskedMax(x: Tensor, mask: Tensor): Tensor {
  return x.maskedFill(mask.logicalNot().unsqueeze(-1), -Infinity).maxDim(1).values;
}

/** The vector at the first position ([CLS] for inputs that carry one) → [batch, dim]. */
export function firstToken(x: Tensor): Tensor {
  return x.select(1, 0);
}

/** bool [batch, time]: true at positions below each row's limit (limits int64 [batch]). */
export function positionsBelow(limits: Tensor, time: number): Tensor {
  return arange(time).unsqueeze(0).lt(limits.unsqueeze(1));
}

// ---------------------------------------------------------------- option checks shared by the nets

/** Sizes must be positive integers; libtorch would otherwise fail later with an obscure shape error. */
export function checkSizes(net: string, sizes: Record<string, number>): void {
  for (const [name, value] of Object.entries(sizes)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new UserError(`${net}: ${name} must be a positive integer, got ${value}`);
    }
  }
}

export function checkDropout(net: string, p: number): void {
  if (!(p >= 0 && p < 1)) throw new UserError(`${net}: dropout must be in [0, 1), got ${p}`);
}
