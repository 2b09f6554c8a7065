/**
 * Writes checkpoint files the way PyTorch and PaddlePaddle do, for tests that must not need Python:
 * `torch.save` zips (`archive/data.pkl` + `archive/data/<key>` storages, `_rebuild_tensor_v2` views) written
 * with fflate's zip writer, and `paddle.save` pickles of numpy arrays. Values are given as numbers and
 * encoded exactly (F16/BF16 values must be representable, so a test compares exact numbers).
 */
import { writeFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { global, pickle, reduce, tuple, type Py } from './pickle-writer.js';

export type TestDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64';

const STORAGE_CLASS: Record<TestDtype, string> = {
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  F64: 'DoubleStorage',
  I64: 'LongStorage',
};

const NUMPY_CODE: Record<TestDtype, string> = { F32: 'f4', F16: 'f2', BF16: 'u2', F64: 'f8', I64: 'i8' };

function halfBits(x: number): number {
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (x === 0) return sign;
  if (exp <= 0 || exp >= 31 || (mant & 0x1fff) !== 0) throw new Error(`${x} is not exactly a normal half`);
  return sign | (exp << 10) | (mant >>> 13);
}

function bfloatBits(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0];
  if ((bits & 0xffff) !== 0) throw new Error(`${x} is not exactly a bfloat16`);
  return bits >>> 16;
}

/** Little-endian bytes of `values` in `dtype`. */
export function encodeValues(dtype: TestDtype, values: readonly number[]): Uint8Array {
  switch (dtype) {
    case 'F32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'F64':
      return new Uint8Array(Float64Array.from(values).buffer);
    case 'I64':
      return new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
    case 'F16':
      return new Uint8Array(Uint16Array.from(values, halfBits).buffer);
    case 'BF16':
      return new Uint8Array(Uint16Array.from(values, bfloatBits).buffer);
  }
}

export interface TorchView {
  storage: string;
  offset: number;
  shape: number[];
  strides: number[];
}

export interface TorchZipOptions {
  /** The archive's folder name (torch uses the file's stem, or "archive"). */
  prefix?: string;
  /** Wrap the state dict as {"state_dict": …}, as training scripts often save. */
  wrap?: string;
  /** Replace the pickle (hostile files). */
  pickleBytes?: Uint8Array;
}

/** A torch.save zip of named views over shared storages. */
export function writeTorchZip(
  file: string,
  views: Record<string, TorchView>,
  storages: Record<string, { dtype: TestDtype; values: number[] }>,
  opts: TorchZipOptions = {},
): void {
  const prefix = opts.prefix ?? 'archive';
  const rebuild = global('torch._utils', '_rebuild_tensor_v2');
  const entries: [Py, Py][] = Object.entries(views).map(([name, v]) => {
    const s = storages[v.storage];
    const pid = tuple('storage', global('torch', STORAGE_CLASS[s.dtype]), v.storage, 'cpu', s.values.length);
    const args = tuple({ t: 'persid', pid }, v.offset, tuple(...v.shape), tuple(...v.strides), false, {
      t: 'odict',
      entries: [],
    });
    return [name, reduce(rebuild, args)];
  });
  const dict: Py = { t: 'odict', entries };
  const root: Py = opts.wrap ? { t: 'dict', entries: [[opts.wrap, dict]] } : dict;
  const files: Record<string, [Uint8Array, { level: 0 }]> = {
    [`${prefix}/data.pkl`]: [opts.pickleBytes ?? pickle(root, 2), { level: 0 }],
    [`${prefix}/byteorder`]: [new TextEncoder().encode('little'), { level: 0 }],
  };
  for (const [key, s] of Object.entries(storages))
    files[`${prefix}/data/${key}`] = [encodeValues(s.dtype, s.values), { level: 0 }];
  files[`${prefix}/version`] = [new TextEncoder().encode('3\n'), { level: 0 }];
  writeFileSync(file, zipSync(files));
}

export interface PlainTensor {
  dtype?: TestDtype;
  shape: number[];
  values: number[];
}

/** A torch.save zip where each tensor has its own contiguous storage. */
export function writeTorchTensors(
  file: string,
  tensors: Map<string, PlainTensor>,
  opts: TorchZipOptions = {},
): void {
  const views: Record<string, TorchView> = {};
  const storages: Record<string, { dtype: TestDtype; values: number[] }> = {};
  let key = 0;
  for (const [name, t] of tensors) {
    const k = String(key++);
    storages[k] = { dtype: t.dtype ?? 'F32', values: t.values };
    const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    views[name] = { storage: k, offset: 0, shape: t.shape, strides };
  }
  writeTorchZip(file, views, storages, opts);
}

/** One numpy array as paddle.save pickles it (column-major when `fortran`, values then given in that order). */
export function numpyArray(dtype: TestDtype, shape: number[], values: number[], fortran = false): Py {
  const multiarray = global('numpy.core.multiarray', '_reconstruct');
  const empty = reduce(
    multiarray,
    tuple(global('numpy', 'ndarray'), tuple(0), new TextEncoder().encode('b')),
  );
  const code = NUMPY_CODE[dtype];
  const dt: Py = {
    t: 'build',
    obj: reduce(global('numpy', 'dtype'), tuple(code, false, true)),
    state: tuple(3, '<', null, null, null, -1, -1, 0),
  };
  return {
    t: 'build',
    obj: empty,
    state: tuple(1, tuple(...shape), dt, fortran, encodeValues(dtype, values)),
  };
}

/** A model_state.pdparams of `tensors` (with Paddle's StructuredToParameterName@@ entry). */
export function writePdparams(file: string, tensors: Map<string, PlainTensor>, protocol: 2 | 4 = 4): void {
  const entries: [Py, Py][] = [...tensors].map(([name, t]) => [
    name,
    numpyArray(t.dtype ?? 'F32', t.shape, t.values),
  ]);
  const structured: Py = {
    t: 'dict',
    entries: [...tensors.keys()].map((n, i) => [n, `param_${i}.w_0`] as [Py, Py]),
  };
  entries.push(['StructuredToParameterName@@', structured]);
  writeFileSync(file, pickle({ t: 'dict', entries }, protocol));
}
