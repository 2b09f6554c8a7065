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

export function maskViews(g: OnnxGraphBuilder, mask: string): MaskViews {
  return g.scope('mask', () => ({
    float: cast(g, mask, 'float32'),
    bool: cast(g, mask, 'bool'),
    lengths: reduce(g, 'ReduceSum', mask, [1], false),
  }));
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
    const w = unsqueeze(g, m.float, [-1]);
    const sum = reduce(g, 'ReduceSum', g.op('Mul', [x, w]), [1], false);
    const count = g.op('Max', [reduce(g, 'ReduceSum', w, [1], false), g.scalar(1)]); // [batch, 1]
    return g.op('Div', [sum, count]);
  });
}

/** Sum of the real positions of x [batch, seq, dim] → [batch, dim] (pooling.ts maskedSum). */
export function maskedSum(g: OnnxGraphBuilder, x: string, m: MaskViews): string {
  return g.scope('masked_sum', () =>
    reduce(g, 'ReduceSum', g.op('Mul', [x, unsqueeze(g, m.float, [-1])]), [1], false),
  );
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

/** bool [batch, n]: true at positions below each row's limit (pooling.ts positionsBelow); n = x's `axis`. */
export function positionsBelow(g: OnnxGraphBuilder, limits: string, x: string, axis: number): string {
  const n = g.op('Squeeze', [dimOf(g, x, axis), g.int64s([0], 'axes')]);
  const zero = g.constant(new BigInt64Array([0n]), [], 'zero');
  const one = g.constant(new BigInt64Array([1n]), [], 'one');
  const positions = g.op('Range', [zero, n, one]); // int64 [n]
  return g.op('Less', [unsqueeze(g, positions, [0]), unsqueeze(g, limits, [1])]);
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
