/**
 * Neural-network functionals and losses (the `torch.nn.functional` of alembic). Modules in nn/ are
 * thin owners of parameters that call these.
 */
import { native } from './native.js';
import { type Reduction, type Tensor, wrap, wrapAll } from './tensor.js';

const NONE = -1;
const h = (t: Tensor | undefined | null): number => (t ? t.handle : NONE);

/** y = x Wᵀ + b with W in torch layout [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return wrap(native.linear(x.handle, weight.handle, h(bias)));
}

/** Rows of `weight` for each id; rows at paddingIdx get no gradient. */
export function embedding(weight: Tensor, ids: Tensor, paddingIdx = -1): Tensor {
  return wrap(native.embedding(weight.handle, ids.handle, paddingIdx));
}

/** x [batch, channels, time], weight [out, in/groups, kernel]. */
export function conv1d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  { stride = 1, padding = 0, dilation = 1, groups = 1 } = {},
): Tensor {
  return wrap(native.conv1d(x.handle, weight.handle, h(bias), stride, padding, dilation, groups));
}

export function maxPool1d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  return wrap(native.maxPool1d(x.handle, kernel, stride, padding));
}

export function avgPool1d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  return wrap(native.avgPool1d(x.handle, kernel, stride, padding));
}

/** Inverted dropout: active only when `training`; scales kept units by 1/(1-p). */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!training || p === 0) return x;
  return wrap(native.dropout(x.handle, p, true));
}

export function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight?: Tensor,
  bias?: Tensor,
  eps = 1e-5,
): Tensor {
  return wrap(native.layerNorm(x.handle, normalizedShape, h(weight), h(bias), eps));
}

export const relu = (x: Tensor): Tensor => x.relu();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => x.gelu(approximate);
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);

export interface RnnResult {
  /** [batch, time, directions × hidden]; zero past each sequence's length when lengths are given. */
  output: Tensor;
  /** Final hidden state [layers × directions, batch, hidden] (at each sequence's true end). */
  hN: Tensor;
  /** Final cell state, LSTM only. */
  cN?: Tensor;
}

/**
 * A multi-layer (bi)LSTM or GRU over batch-first input. `params` are in libtorch's order: per layer and
 * direction, w_ih, w_hh, b_ih, b_hh. With `lengths` (int64 [batch]) the batch is packed so padding never
 * enters the recurrence.
 */
export function rnn(
  mode: 'lstm' | 'gru',
  x: Tensor,
  params: Tensor[],
  opts: { lengths?: Tensor; numLayers: number; bidirectional: boolean; dropout?: number; training?: boolean },
): RnnResult {
  const out = wrapAll(
    native.rnn(
      mode,
      x.handle,
      h(opts.lengths),
      params.map((p) => p.handle),
      opts.numLayers,
      opts.dropout ?? 0,
      opts.training ?? false,
      opts.bidirectional,
    ),
  );
  return { output: out[0], hN: out[1], cN: out[2] };
}

// ---------------------------------------------------------------- losses

export interface CrossEntropyOptions {
  /** Targets equal to this are ignored (padding in sequence labelling). */
  ignoreIndex?: number;
  labelSmoothing?: number;
  /** Per-class weights [C]. */
  weight?: Tensor;
  reduction?: Reduction;
}

/** logits [N, C] (or [N, C, d…]), target int64 [N] (or [N, d…]). */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  return wrap(
    native.crossEntropy(
      logits.handle,
      target.handle,
      h(opts.weight),
      opts.reduction ?? 'mean',
      opts.ignoreIndex ?? -100,
      opts.labelSmoothing ?? 0,
    ),
  );
}

export function nllLoss(
  logProbs: Tensor,
  target: Tensor,
  opts: Omit<CrossEntropyOptions, 'labelSmoothing'> = {},
): Tensor {
  return wrap(
    native.nllLoss(
      logProbs.handle,
      target.handle,
      h(opts.weight),
      opts.reduction ?? 'mean',
      opts.ignoreIndex ?? -100,
    ),
  );
}

/** Multi-label loss: logits and float targets of the same shape. */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  opts: { weight?: Tensor; posWeight?: Tensor; reduction?: Reduction } = {},
): Tensor {
  return wrap(
    native.bceWithLogits(
      logits.handle,
      target.handle,
      h(opts.weight),
      h(opts.posWeight),
      opts.reduction ?? 'mean',
    ),
  );
}

/**
 * KL(target ‖ input) with `input` as log-probabilities, as torch's kl_div. 'batchmean' divides the sum
 * by the batch size (the mathematically correct KL mean); 'mean' divides by every element.
 */
export function klDiv(
  logInput: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {},
): Tensor {
  const reduction = opts.reduction ?? 'batchmean';
  if (reduction === 'batchmean') {
    const sum = wrap(native.klDiv(logInput.handle, target.handle, 'sum', opts.logTarget ?? false));
    const out = sum.div(logInput.size(0));
    sum.dispose();
    return out;
  }
  return wrap(native.klDiv(logInput.handle, target.handle, reduction, opts.logTarget ?? false));
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(native.mseLoss(input.handle, target.handle, reduction));
}

/** max(0, −y·(a − b) + margin): y = 1 when `a` should rank above `b`. */
export function marginRankingLoss(
  a: Tensor,
  b: Tensor,
  y: Tensor,
  margin = 0,
  reduction: Reduction = 'mean',
): Tensor {
  return wrap(native.marginRankingLoss(a.handle, b.handle, y.handle, margin, reduction));
}
