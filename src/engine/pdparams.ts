/**
 * PaddlePaddle state dicts (`model_state.pdparams`, what `paddle.save(model.state_dict())` writes): a pickle
 * (protocol 2–4) of a dict from structured parameter name to numpy array, each array pickled as
 * `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` followed by BUILD with the state
 * `(version, shape, numpy.dtype(code, …), is_fortran, raw bytes)`, plus Paddle's own
 * `StructuredToParameterName@@` entry (structured name → internal name), which is not a tensor. The pickle
 * runs in the restricted unpickler with only the numpy globals listed here. numpy has no bfloat16, so Paddle
 * stores bfloat16 parameters as uint16 arrays: those are read as BF16.
 */
import { UserError } from '../util/errors.js';
import { CODECS_ENCODE, isTuple, ORDERED_DICT, unpickle, type PickleGlobal, type PyDict } from './pickle.js';
import { readWholeFile } from './read-whole-file.js';
import { dtypeByteSize, shapeNumel, type RawTensor, type SafeDtype } from './safetensors.js';
import { gatherStrided } from './strided.js';
import type { TensorSource } from './tensor-source.js';

const NUMPY_DTYPES: Record<string, SafeDtype> = {
  f4: 'F32',
  f2: 'F16',
  f8: 'F64',
  i8: 'I64',
  i4: 'I32',
  i2: 'I16',
  i1: 'I8',
  u1: 'U8',
  b1: 'BOOL',
  u2: 'BF16',
};

/** A numpy dtype: the code from its constructor, the byte order from BUILD. */
class NumpyDtype {
  order = '<';
  constructor(readonly code: string) {}
  setState(state: unknown): void {
    if (isTuple(state) && typeof state[1] === 'string') this.order = state[1];
  }
}

/** A numpy array: empty from `_reconstruct`, filled by BUILD. */
class NumpyArray {
  shape: number[] = [];
  dtype?: NumpyDtype;
  fortran = false;
  data?: Uint8Array;
  setState(state: unknown): void {
    if (!isTuple(state) || state.length !== 5) throw new Error('numpy array state is not a 5-tuple');
    const [, shape, dtype, fortran, data] = state;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new Error('numpy array shape is not a tuple of sizes');
    if (!(dtype instanceof NumpyDtype)) throw new Error('numpy array dtype is not a numpy.dtype');
    if (!(data instanceof Uint8Array))
      throw new Error(`numpy array of ${dtype.code} holds objects, not raw data`);
    this.shape = [...(shape as number[])];
    this.dtype = dtype;
    this.fortran = fortran === true;
    this.data = data;
  }
}

function numpyGlobals(): Map<string, PickleGlobal> {
  const globals = new Map<string, PickleGlobal>();
  const add = (g: PickleGlobal) => globals.set(`${g.module}.${g.name}`, g);
  for (const core of ['numpy.core.multiarray', 'numpy._core.multiarray'])
    add({ module: core, name: '_reconstruct', call: () => new NumpyArray() });
  add({ module: 'numpy', name: 'ndarray', call: () => new NumpyArray() });
  add({
    module: 'numpy',
    name: 'dtype',
    call([code]) {
      if (typeof code !== 'string') throw new Error('numpy.dtype without a type code');
      return new NumpyDtype(code);
    },
  });
  add(ORDERED_DICT);
  add(CODECS_ENCODE);
  return globals;
}

/** Paddle's bookkeeping entry, not a tensor. */
const STRUCTURED_NAMES = 'StructuredToParameterName@@';

function toRaw(file: string, name: string, a: NumpyArray): RawTensor {
  const code = a.dtype?.code ?? '?';
  const dtype = NUMPY_DTYPES[code.replace(/^[<>=|]/, '')];
  if (!dtype || !a.data)
    throw new UserError(`${file}: ${name}: numpy dtype "${code}" is not a tensor type alembic reads`);
  if (a.dtype!.order === '>' || code.startsWith('>'))
    throw new UserError(`${file}: ${name}: big-endian arrays are not supported`);
  const size = dtypeByteSize(dtype);
  if (a.data.length !== shapeNumel(a.shape) * size)
    throw new UserError(`${file}: ${name}: ${a.data.length} bytes of data for shape [${a.shape}] of ${code}`);
  if (!a.fortran) return { dtype, shape: a.shape, data: a.data };
  // Column-major: element (i, j, …) is at i + j·d0 + …
  const strides: number[] = [];
  let s = 1;
  for (const d of a.shape) {
    strides.push(s);
    s *= d;
  }
  return { dtype, shape: a.shape, data: gatherStrided(a.data, size, 0, a.shape, strides) };
}

/** Opens a .pdparams file; the whole pickle is parsed at once (arrays are inline in it). */
export function pdparamsSource(file: string): TensorSource {
  const root = unpickle(readWholeFile(file, 'Paddle checkpoint'), { source: file, globals: numpyGlobals() });
  if (!(root instanceof Map))
    throw new UserError(`${file}: not a Paddle state dict (the pickle holds no dict)`);
  const arrays = new Map<string, NumpyArray>();
  for (const [k, v] of root as PyDict) {
    if (k === STRUCTURED_NAMES) continue;
    if (typeof k !== 'string' || !(v instanceof NumpyArray))
      throw new UserError(`${file}: entry ${JSON.stringify(k)} is not a numpy array`);
    arrays.set(k, v);
  }
  if (arrays.size === 0) throw new UserError(`${file}: holds no tensors`);
  return {
    file,
    format: 'Paddle pdparams',
    names: () => [...arrays.keys()],
    read(names) {
      const out = new Map<string, RawTensor>();
      for (const n of names) {
        const a = arrays.get(n);
        if (!a) throw new UserError(`${file}: no tensor named "${n}"`);
        out.set(n, toRaw(file, n, a));
      }
      return out;
    },
  };
}
