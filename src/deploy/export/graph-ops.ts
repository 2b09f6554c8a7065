/**
 * Graph pieces the exporters share: the padding views of an attention mask, masked pooling written to
 * compute exactly what src/nets/pooling.ts computes, and the few ops whose form changed between opsets.
 */
import { int, type OnnxGraphBuilder } from '../onnx/index.js';
import { DataType } from '../onnx/schema.js';

/** One text's graph inputs: int64 ids [batch, seq] and int64 1/0 attention mask [batch, seq]. */
export interface TextValues {
  ids: string;
  mask: string;
  /** Segment ids [batch, seq] (Transformer pair input). */
  typeIds?: string;
  /** Each token's character ids [batch, seq, chars] (an RNN with character features). */
  charIds?: string;
}

/** The mask in the forms the nets need, made once per text. */
export interface MaskViews {
  /** float 1/0 [batch, seq]. */
  float: string;
  /** bool [batch, seq]. */
  bool: string;
  /** Real lengths, int64 [batch] (the mask's row sums: padding is on the right, as padBatch puts it). */
  lengths: string;
}

export function cast(g: OnnxGraphBuilder, x: string, to: 'float32' | 'bool' | 'int32' | 'int64'): string {
  const code = { float32: DataType.FLOAT, bool: DataType.BOOL, int32: DataType.INT32, int64: DataType.INT64 };
  return g.op('Cast', [x], { to: int(code[to]) });
}

/**
 * The views are made on first use: onnxruntime runs every node, used or not, and a BOW at batch 1 spends
 * its time in per-node overhead, so a graph should hold only the views its net reads.
 */
export function maskViews(g: OnnxGraphBuilder, mask: string): MaskViews {
  const view = (make: () => string) => {
    let value: string | undefined;
    return () => (value ??= g.scope('mask', make));
  };
  const float = view(() => cast(g, mask, 'float32'));
  const bool = view(() => cast(g, mask, 'bool'));
  const lengths = view(() => reduce(g, 'ReduceSum', mask, [1], false));
  return {
    get float() {
      return float();
    },
    get bool() {
      return bool();
    },
    get lengths() {
      return lengths();
    },
  };
}

/**
 * A reduction over `axes`. ReduceSum takes its axes as an input from opset 13; the other reductions only
 * from opset 18 (before, an attribute), so the form depends on the graph's opset.
 */
export function reduce(
  g: OnnxGraphBuilder,
  op: 'ReduceSum' | 'ReduceMax' | 'ReduceMean',
  x: string,
  axes: number[],
  keepdims: boolean,
): string {
  if (op === 'ReduceSum' || g.opset >= 18) {
    return g.op(op, [x, g.int64s(axes, 'axes')], { keepdims: int(keepdims ? 1 : 0) });
  }
  return g.op(op, [x], { axes, keepdims: int(keepdims ? 1 : 0) });
}

export function unsqueeze(g: OnnxGraphBuilder, x: string, axes: number[]): string {
  return g.op('Unsqueeze', [x, g.int64s(axes, 'axes')]);
}

/** Size of one axis of `x` as a 1-D int64 tensor of one element (for Reshape shapes, Slice bounds). */
export function dimOf(g: OnnxGraphBuilder, x: string, axis: number): string {
  return g.op('Gather', [g.op('Shape', [x]), g.int64s([axis], 'axis')], { axis: int(0) });
}

/** Mean of the real positions of x [batch, seq, dim] → [batch, dim] (pooling.ts maskedMean). */
export function maskedMean(g: OnnxGraphBuilder, x: string, m: MaskViews): string {
  return g.scope('masked_mean', () => {
    const count = g.op('Max', [reduce(g, 'ReduceSum', m.float, [1], true), g.scalar(1)]); // [batch, 1]
    return g.op('Div', [weightedSum(g, x, m.float), count]);
  });
}

/** Σ w·x / Σ w over the real positions, w positive [batch, seq] → [batch, dim] (pooling.ts weightedMean). */
export function weightedMean(g: OnnxGraphBuilder, x: string, w: string, m: MaskViews): string {
  return g.scope('weighted_mean', () => {
    const weights = g.op('Mul', [w, m.float]);
    const total = g.op('Max', [reduce(g, 'ReduceSum', weights, [1], true), g.scalar(1e-12)]); // [batch, 1]
    return g.op('Div', [weightedSum(g, x, weights), total]);
  });
}

/** Sum of the real positions of x [batch, seq, dim] → [batch, dim] (pooling.ts maskedSum). */
export function maskedSum(g: OnnxGraphBuilder, x: string, m: MaskViews): string {
  return g.scope('masked_sum', () => weightedSum(g, x, m.float));
}

/**
 * Σ_t w[b, t] · x[b, t, :] as one batched MatMul ([batch, 1, seq] × [batch, seq, dim]): in onnxruntime a
 * third of the cost of Mul + ReduceSum at batch 1, where a BOW's time is per-node overhead.
 */
function weightedSum(g: OnnxGraphBuilder, x: string, w: string): string {
  return g.op('Squeeze', [g.op('MatMul', [unsqueeze(g, w, [1]), x]), g.int64s([1], 'axes')]);
}

/**
 * Maximum over the positions of x [batch, seq, dim] where `keep` [batch, seq] is true → [batch, dim];
 * the others are −∞ first, as pooling.ts maskedMax does, so a negative feature is never beaten by padding.
 */
export function maskedMax(g: OnnxGraphBuilder, x: string, keep: string): string {
  return g.scope('masked_max', () => {
    const filled = g.op('Where', [unsqueeze(g, keep, [-1]), x, g.scalar(-Infinity)]);
    return reduce(g, 'ReduceMax', filled, [1], false);
  });
}

/**
 * Declares one text's inputs: ids and mask [batch, seq] (and segment ids). Each text of a model gets its
 * own sequence axis name: onnxruntime plans buffers by dim names, so a shared name would tell it that both
 * texts of a pair are always equally long.
 */
export function textInputs(
  g: OnnxGraphBuilder,
  names: { ids: string; mask: string; typeIds?: string },
  seq: string,
): TextValues {
  return {
    ids: g.input(names.ids, 'int64', ['batch', seq]),
    mask: g.input(names.mask, 'int64', ['batch', seq]),
    ...(names.typeIds ? { typeIds: g.input(names.typeIds, 'int64', ['batch', seq]) } : {}),
  };
}
