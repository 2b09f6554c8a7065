/**
 * Element types alembic's ONNX graphs use, the typed arrays that hold them, and their ONNX DataType codes.
 * `bool` is held in a Uint8Array (one byte per element, 0 or 1), as both ONNX raw_data and onnxruntime do.
 */
import { DataType } from './schema.js';

export type ElemType = 'float32' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export type TensorData = Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/** A dimension: a fixed size, or a name for a size known only at run time ('batch', 'seq'). */
export type Dim = number | string;

const dataTypeOf: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  int64: DataType.INT64,
  int32: DataType.INT32,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
};

export function onnxDataType(type: ElemType): number {
  return dataTypeOf[type];
}

/** The element type a typed array holds; a Uint8Array is uint8 unless the caller says bool. */
export function elemTypeOfArray(data: TensorData): ElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int8Array) return 'int8';
  return 'uint8';
}

/** The number of elements a fixed shape holds (1 for a scalar's empty shape). */
export function shapeSize(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * The little-endian bytes of a typed array, as TensorProto.raw_data requires. Views the array's own memory on
 * little-endian hosts (every platform onnxruntime-node ships for), so large weights are not copied.
 */
export function rawBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
