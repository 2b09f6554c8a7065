/**
 * Tensor creation: from JS arrays and typed arrays, constants, and seeded random tensors.
 */
import { native } from './native.js';
import { type DType, type Tensor, wrap } from './tensor.js';

/** A float32 tensor from numbers (copied). */
export function tensor(
  values: ArrayLike<number>,
  shape: number[] = [values.length],
  dtype: DType = 'float32',
): Tensor {
  switch (dtype) {
    case 'float32':
      return fromTyped(Float32Array.from(values), shape, 'float32');
    case 'float64':
      return fromTyped(Float64Array.from(values), shape, 'float64');
    case 'int64':
      return fromTyped(
        BigInt64Array.from(Array.from(values), (v) => BigInt(Math.trunc(v))),
        shape,
        'int64',
      );
    case 'int32':
      return fromTyped(Int32Array.from(values), shape, 'int32');
    case 'bool':
      return fromTyped(
        Uint8Array.from(values, (v) => (v ? 1 : 0)),
        shape,
        'bool',
      );
    case 'uint8':
      return fromTyped(Uint8Array.from(values), shape, 'uint8');
    case 'int8':
      return fromTyped(Int8Array.from(values), shape, 'int8');
    default:
      throw new Error(`tensor(): cannot build ${dtype} from numbers`);
  }
}

/** An int64 tensor (token ids, labels) from numbers. */
export function int64(values: ArrayLike<number>, shape: number[] = [values.length]): Tensor {
  return tensor(values, shape, 'int64');
}

/** A tensor over a copy of a typed array's bytes. */
export function fromTyped(data: ArrayBufferView, shape: number[], dtype: DType): Tensor {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return wrap(native.fromBytes(bytes, shape, dtype));
}

export function zeros(shape: number[], dtype: DType = 'float32'): Tensor {
  return wrap(native.zeros(shape, dtype));
}
export function ones(shape: number[], dtype: DType = 'float32'): Tensor {
  return wrap(native.ones(shape, dtype));
}
export function full(shape: number[], value: number, dtype: DType = 'float32'): Tensor {
  return wrap(native.full(shape, value, dtype));
}
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return full([], value, dtype);
}
/** Standard normal samples from libtorch's generator (seed it with manualSeed). */
export function randn(shape: number[], dtype: DType = 'float32'): Tensor {
  return wrap(native.randn(shape, dtype));
}
/** Uniform samples in [0, 1). */
export function rand(shape: number[], dtype: DType = 'float32'): Tensor {
  return wrap(native.rand(shape, dtype));
}
/** Uniform integers in [low, high). */
export function randint(low: number, high: number, shape: number[]): Tensor {
  return wrap(native.randint(low, high, shape));
}
export function randperm(n: number): Tensor {
  return wrap(native.randperm(n));
}
export function arange(start: number, end?: number, step = 1, dtype: DType = 'int64'): Tensor {
  if (end === undefined) [start, end] = [0, start];
  return wrap(native.arange(start, end, step, dtype));
}
export function eye(n: number, dtype: DType = 'float32'): Tensor {
  return wrap(native.eye(n, dtype));
}

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(
    native.cat(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(
    native.stack(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}
/** Elementwise choice: cond ? a : b. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return wrap(native.where(cond.handle, a.handle, b.handle));
}

/** Seeds libtorch's generator (random init, dropout, randn). */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}
