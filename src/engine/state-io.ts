/**
 * Tensors ↔ safetensors files: model weights, optimizer state and generator state all go through here.
 */
import { fromTyped } from './create.js';
import { native } from './native.js';
import { UserError } from '../util/errors.js';
import { describeNonFinite, firstNonFinite } from '../util/finite.js';
import {
  readSafetensors,
  toFloat32,
  writeSafetensors,
  type RawTensor,
  type SafeDtype,
} from './safetensors.js';
import { type DType, type Tensor, wrap } from './tensor.js';

const TO_SAFE: Partial<Record<DType, SafeDtype>> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const FROM_SAFE: Record<SafeDtype, DType> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int32',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

export function toRaw(t: Tensor): RawTensor {
  const dtype = TO_SAFE[t.dtype];
  if (!dtype) throw new Error(`cannot save a ${t.dtype} tensor to safetensors`);
  return { dtype, shape: t.shape, data: t.toBytes() };
}

export function fromRaw(raw: RawTensor): Tensor {
  if (raw.dtype === 'I16') {
    const v = new Int16Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength / 2);
    return fromTyped(Int32Array.from(v), raw.shape, 'int32');
  }
  return fromTyped(raw.data, raw.shape, FROM_SAFE[raw.dtype]);
}

/** Writes tensors by name (atomically: temp file, then rename). */
export function saveTensors(
  file: string,
  tensors: Map<string, Tensor>,
  metadata: Record<string, string> = {},
): void {
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of tensors) raw.set(name, toRaw(t));
  writeSafetensors(file, raw, metadata);
}

/** Reads tensors by name (all, or only `names`); the caller owns the returned tensors. */
export function loadTensors(
  file: string,
  names?: string[],
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = readSafetensors(file, names ? { names } : undefined);
  for (const [name, raw] of tensors) checkFinite(file, name, raw);
  const out = new Map<string, Tensor>();
  for (const [name, raw] of tensors) out.set(name, fromRaw(raw));
  return { tensors: out, metadata };
}

const FLOAT_DTYPES: ReadonlySet<SafeDtype> = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Refuses a float tensor holding NaN or ±Infinity: garbled bytes or a diverged run, which would otherwise
 * give NaN predictions with exit 0. No alembic model, optimizer or generator state legitimately holds one.
 */
function checkFinite(file: string, name: string, raw: RawTensor): void {
  if (!FLOAT_DTYPES.has(raw.dtype)) return;
  // readSafetensors gives each tensor its own buffer, so an F32 tensor is viewed in place (x86 and ARM hosts
  // are little-endian, as the file is); other float dtypes are widened first.
  const aligned = raw.dtype === 'F32' && raw.data.byteOffset % 4 === 0 && LITTLE_ENDIAN;
  const values = aligned
    ? new Float32Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength / 4)
    : toFloat32(raw);
  const i = firstNonFinite(values);
  if (i >= 0) {
    throw new UserError(
      `${file}: tensor "${name}": element ${i} of ${values.length} is ${describeNonFinite(values[i])}; ` +
        `the file is damaged (or the training diverged): restore it or train again`,
    );
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Frees every tensor of a map (e.g. a loaded state dict after it was copied into a model). */
export function disposeAll(tensors: Map<string, Tensor>): void {
  for (const t of tensors.values()) t.dispose();
}

/** libtorch's CPU generator state (dropout masks, random init), for exact resume. */
export function getRngState(): Tensor {
  return wrap(native.getRngState());
}

export function setRngState(state: Tensor): void {
  native.setRngState(state.handle);
}
