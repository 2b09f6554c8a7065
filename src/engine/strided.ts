/**
 * Copies a strided view of a storage (PyTorch's storage offset + sizes + strides, a Fortran-ordered numpy
 * array) into a fresh contiguous row-major buffer, checking that every element lies inside the storage:
 * checkpoint files are untrusted, and a view may be transposed, sliced or share its storage with others.
 */
import { shapeNumel } from './safetensors.js';

/** Row-major strides (in elements) of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/**
 * The bytes of the view, contiguous. `offset` and `strides` count elements of `elementSize` bytes; throws
 * (a plain Error, for the caller to name the file and tensor) when the view reaches outside `storage`.
 */
export function gatherStrided(
  storage: Uint8Array,
  elementSize: number,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
): Uint8Array {
  if (shape.length !== strides.length) throw new Error(`${shape.length} sizes but ${strides.length} strides`);
  if (
    ![offset, ...shape, ...strides].every((v) => Number.isSafeInteger(v)) ||
    offset < 0 ||
    shape.some((d) => d < 0)
  )
    throw new Error(`invalid view: offset ${offset}, sizes [${shape}], strides [${strides}]`);
  const n = shapeNumel(shape);
  const out = new Uint8Array(n * elementSize);
  if (n === 0) return out;
  let lo = offset;
  let hi = offset;
  shape.forEach((d, i) => {
    const reach = (d - 1) * strides[i];
    if (reach < 0) lo += reach;
    else hi += reach;
  });
  const elements = storage.length / elementSize;
  if (lo < 0 || hi >= elements)
    throw new Error(
      `view [offset ${offset}, sizes [${shape}], strides [${strides}]] reaches outside its storage of ${elements} elements`,
    );
  const want = contiguousStrides(shape);
  if (strides.every((s, i) => s === want[i] || shape[i] === 1)) {
    out.set(storage.subarray(offset * elementSize, (offset + n) * elementSize));
    return out;
  }
  const index = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let k = 0; k < n; k++) {
    out.set(storage.subarray(src * elementSize, (src + 1) * elementSize), k * elementSize);
    // Odometer over the dimensions, last fastest.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      src += strides[d];
      if (index[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}
