/**
 * The typed Tensor API over the libtorch addon.
 *
 * A Tensor owns one native handle. Memory is released by `dispose()`, by the `tidy(fn)` scope that
 * created it, or — as a safety net only — when the JS object is garbage-collected. Training loops
 * should run each step inside `tidy` so memory stays flat.
 */
import { native, type Handle } from './native.js';
import { SCOPED_TENSOR, trackTensor, untrackTensor, type ScopedTensor } from './scope.js';

export type DType =
  'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8' | 'float16' | 'bfloat16';
export type Shape = readonly number[];
export type Reduction = 'mean' | 'sum' | 'none';

// Frees handles whose Tensor was collected without dispose(). Handles carry a generation, so freeing
// an already-freed handle is a harmless no-op in the addon.
const collected = new FinalizationRegistry<Handle>((handle) => native.dispose(handle));

export class Tensor implements ScopedTensor {
  private live = true;
  /** Set by keep(): the enclosing tidy scopes leave this tensor alone. */
  kept = false;

  constructor(readonly handle: Handle) {
    collected.register(this, handle);
    trackTensor(this);
  }

  // ------------------------------------------------------------ inspection

  get shape(): number[] {
    return native.shape(this.handle);
  }
  get dtype(): DType {
    return native.dtype(this.handle);
  }
  get numel(): number {
    return native.numel(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Size of one dimension; negative dims count from the end. */
  size(dim: number): number {
    const s = this.shape;
    return s[dim < 0 ? s.length + dim : dim];
  }
  get isDisposed(): boolean {
    return !this.live;
  }

  item(): number {
    return native.item(this.handle);
  }
  /** A copy of the values as float32 (any dtype converted). */
  toFloat32Array(): Float32Array {
    return bytesAs(
      this.dtype === 'float32' ? this : this.to('float32'),
      Float32Array,
      this.dtype !== 'float32',
    );
  }
  toFloat64Array(): Float64Array {
    return bytesAs(
      this.dtype === 'float64' ? this : this.to('float64'),
      Float64Array,
      this.dtype !== 'float64',
    );
  }
  toInt64Array(): BigInt64Array {
    return bytesAs(this.dtype === 'int64' ? this : this.to('int64'), BigInt64Array, this.dtype !== 'int64');
  }
  /** The values as plain numbers, flattened in row-major order. */
  toArray(): number[] {
    if (this.dtype === 'int64' || this.dtype === 'int32' || this.dtype === 'bool' || this.dtype === 'uint8') {
      return Array.from(this.toInt64Array(), Number);
    }
    return Array.from(this.toFloat64Array());
  }
  /** Raw little-endian bytes of the contiguous tensor (for safetensors). */
  toBytes(): Uint8Array {
    return native.toBytes(this.handle);
  }

  // ------------------------------------------------------------ lifetime

  dispose(): void {
    if (!this.live) return;
    this.live = false;
    native.dispose(this.handle);
    untrackTensor(this);
  }

  /** Exempts this tensor from every enclosing tidy scope; returns it. */
  keep(): this {
    this.kept = true;
    return this;
  }

  // ------------------------------------------------------------ autograd

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(on: boolean) {
    native.setRequiresGrad(this.handle, on);
  }
  /** The accumulated gradient (a new handle to it, owned by the caller's scope), or null. */
  get grad(): Tensor | null {
    const h = native.grad(this.handle);
    return h < 0 ? null : new Tensor(h);
  }
  backward(gradient?: Tensor): void {
    native.backward(this.handle, gradient ? gradient.handle : -1);
  }
  detach(): Tensor {
    return wrap(native.detach(this.handle));
  }

  // ------------------------------------------------------------ conversion and shape

  to(dtype: DType): Tensor {
    return wrap(native.to(this.handle, dtype));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return wrap(native.clone(this.handle));
  }
  contiguous(): Tensor {
    return wrap(native.contiguous(this.handle));
  }
  reshape(...shape: number[]): Tensor {
    return wrap(native.reshape(this.handle, shape));
  }
  view(...shape: number[]): Tensor {
    return wrap(native.view(this.handle, shape));
  }
  permute(...dims: number[]): Tensor {
    return wrap(native.permute(this.handle, dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return wrap(native.transpose(this.handle, dim0, dim1));
  }
  /** Matrix transpose of the last two dimensions. */
  get mT(): Tensor {
    return this.transpose(-2, -1);
  }
  expand(...shape: number[]): Tensor {
    return wrap(native.expand(this.handle, shape));
  }
  squeeze(dim: number): Tensor {
    return wrap(native.squeeze(this.handle, dim));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(native.unsqueeze(this.handle, dim));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(native.flatten(this.handle, startDim, endDim));
  }
  repeat(...times: number[]): Tensor {
    return wrap(native.repeat(this.handle, times));
  }
  /** Elements [start, end) with a step along one dimension (a view, like `t[:, start:end:step]`). */
  slice(dim: number, start: number, end: number = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
    return wrap(native.slice(this.handle, dim, start, end, step));
  }
  /** Removes dimension `dim` by taking position `index` (like `t[:, index]`). */
  select(dim: number, index: number): Tensor {
    return wrap(native.select(this.handle, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(native.gather(this.handle, dim, index.handle));
  }
  scatter(dim: number, index: Tensor, src: Tensor): Tensor {
    return wrap(native.scatter(this.handle, dim, index.handle, src.handle));
  }
  indexAdd(dim: number, index: Tensor, source: Tensor): Tensor {
    return wrap(native.indexAdd(this.handle, dim, index.handle, source.handle));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return wrap(native.maskedFill(this.handle, mask.handle, value));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return wrapAll(native.chunk(this.handle, chunks, dim));
  }
  split(sizes: number[], dim = 0): Tensor[] {
    return wrapAll(native.split(this.handle, sizes, dim));
  }
  tril(diagonal = 0): Tensor {
    return wrap(native.tril(this.handle, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return wrap(native.triu(this.handle, diagonal));
  }
  flip(...dims: number[]): Tensor {
    return wrap(native.flip(this.handle, dims));
  }

  // ------------------------------------------------------------ elementwise math

  add(other: Tensor | number, alpha = 1): Tensor {
    return typeof other === 'number'
      ? wrap(native.addScalar(this.handle, other * alpha))
      : wrap(native.add(this.handle, other.handle, alpha));
  }
  sub(other: Tensor | number, alpha = 1): Tensor {
    return typeof other === 'number'
      ? wrap(native.addScalar(this.handle, -other * alpha))
      : wrap(native.sub(this.handle, other.handle, alpha));
  }
  /** `value - this` */
  rsub(value: number): Tensor {
    return wrap(native.rsubScalar(this.handle, value));
  }
  mul(other: Tensor | number): Tensor {
    return typeof other === 'number'
      ? wrap(native.mulScalar(this.handle, other))
      : wrap(native.mul(this.handle, other.handle));
  }
  div(other: Tensor | number): Tensor {
    return typeof other === 'number'
      ? wrap(native.divScalar(this.handle, other))
      : wrap(native.div(this.handle, other.handle));
  }
  pow(exponent: Tensor | number): Tensor {
    return typeof exponent === 'number'
      ? wrap(native.powScalar(this.handle, exponent))
      : wrap(native.pow(this.handle, exponent.handle));
  }
  maximum(other: Tensor): Tensor {
    return wrap(native.maximum(this.handle, other.handle));
  }
  minimum(other: Tensor): Tensor {
    return wrap(native.minimum(this.handle, other.handle));
  }
  neg(): Tensor {
    return wrap(native.neg(this.handle));
  }
  exp(): Tensor {
    return wrap(native.exp(this.handle));
  }
  log(): Tensor {
    return wrap(native.log(this.handle));
  }
  log1p(): Tensor {
    return wrap(native.log1p(this.handle));
  }
  sqrt(): Tensor {
    return wrap(native.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return wrap(native.rsqrt(this.handle));
  }
  abs(): Tensor {
    return wrap(native.abs(this.handle));
  }
  sign(): Tensor {
    return wrap(native.sign(this.handle));
  }
  tanh(): Tensor {
    return wrap(native.tanh(this.handle));
  }
  sigmoid(): Tensor {
    return wrap(native.sigmoid(this.handle));
  }
  relu(): Tensor {
    return wrap(native.relu(this.handle));
  }
  /** GELU; 'none' is the exact erf form (BERT's), 'tanh' the approximation. */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return wrap(native.gelu(this.handle, approximate));
  }
  clamp(min?: number, max?: number): Tensor {
    return wrap(native.clamp(this.handle, min, max));
  }

  // ------------------------------------------------------------ comparison and logic (bool results)

  eq(other: Tensor | number): Tensor {
    return compare(this, other, 'eq');
  }
  ne(other: Tensor | number): Tensor {
    return compare(this, other, 'ne');
  }
  gt(other: Tensor | number): Tensor {
    return compare(this, other, 'gt');
  }
  ge(other: Tensor | number): Tensor {
    return compare(this, other, 'ge');
  }
  lt(other: Tensor | number): Tensor {
    return compare(this, other, 'lt');
  }
  le(other: Tensor | number): Tensor {
    return compare(this, other, 'le');
  }
  logicalNot(): Tensor {
    return wrap(native.logicalNot(this.handle));
  }
  logicalAnd(other: Tensor): Tensor {
    return wrap(native.logicalAnd(this.handle, other.handle));
  }
  logicalOr(other: Tensor): Tensor {
    return wrap(native.logicalOr(this.handle, other.handle));
  }

  // ------------------------------------------------------------ reductions

  sum(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined
      ? wrap(native.sumAll(this.handle))
      : wrap(native.sum(this.handle, dims(dim), keepdim));
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined
      ? wrap(native.meanAll(this.handle))
      : wrap(native.mean(this.handle, dims(dim), keepdim));
  }
  /** Maximum over all elements. */
  max(): Tensor {
    return wrap(native.maxAll(this.handle));
  }
  min(): Tensor {
    return wrap(native.minAll(this.handle));
  }
  /** Maximum along a dimension: values and their indices. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = wrapAll(native.max(this.handle, dim, keepdim));
    return { values: v, indices: i };
  }
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = wrapAll(native.min(this.handle, dim, keepdim));
    return { values: v, indices: i };
  }
  argmax(dim: number, keepdim = false): Tensor {
    return wrap(native.argmax(this.handle, dim, keepdim));
  }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [v, i] = wrapAll(native.topk(this.handle, k, dim, largest));
    return { values: v, indices: i };
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = wrapAll(native.sort(this.handle, dim, descending));
    return { values: v, indices: i };
  }
  cumsum(dim: number): Tensor {
    return wrap(native.cumsum(this.handle, dim));
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return wrap(native.logsumexp(this.handle, dims(dim), keepdim));
  }
  norm(p = 2, dim: number | number[] = [], keepdim = false): Tensor {
    return wrap(native.norm(this.handle, p, dims(dim), keepdim));
  }
  variance(dim: number | number[], unbiased = false, keepdim = false): Tensor {
    return wrap(native.variance(this.handle, dims(dim), unbiased, keepdim));
  }

  // ------------------------------------------------------------ linear algebra and activations

  matmul(other: Tensor): Tensor {
    return wrap(native.matmul(this.handle, other.handle));
  }
  bmm(other: Tensor): Tensor {
    return wrap(native.bmm(this.handle, other.handle));
  }
  softmax(dim: number): Tensor {
    return wrap(native.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(native.logSoftmax(this.handle, dim));
  }

  // ------------------------------------------------------------ in-place updates (outside autograd)

  copy_(src: Tensor): this {
    native.copy_(this.handle, src.handle);
    return this;
  }
  fill_(value: number): this {
    native.fill_(this.handle, value);
    return this;
  }
  uniform_(low: number, high: number): this {
    native.uniform_(this.handle, low, high);
    return this;
  }
  normal_(mean: number, std: number): this {
    native.normal_(this.handle, mean, std);
    return this;
  }

  toString(): string {
    return `Tensor(${this.dtype}[${this.shape.join(', ')}])`;
  }
}

// tidy() recognises tensors in a scope's result by this mark (scope.ts cannot import this class).
Object.defineProperty(Tensor.prototype, SCOPED_TENSOR, { value: true });

export function wrap(handle: Handle): Tensor {
  return new Tensor(handle);
}

export function wrapAll(handles: Handle[]): Tensor[] {
  return handles.map((h) => new Tensor(h));
}

function dims(d: number | number[]): number[] {
  return typeof d === 'number' ? [d] : d;
}

function compare(a: Tensor, b: Tensor | number, op: string): Tensor {
  return typeof b === 'number'
    ? wrap(native.compareScalar(a.handle, b, op))
    : wrap(native.compare(a.handle, b.handle, op));
}

type TypedArrayCtor<A> = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): A;
  BYTES_PER_ELEMENT: number;
};

function bytesAs<A>(t: Tensor, Ctor: TypedArrayCtor<A>, disposeSource: boolean): A {
  const bytes = t.toBytes();
  if (disposeSource) t.dispose();
  return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
}
