/**
 * The subset of the ONNX protobuf schema (onnx/onnx.proto, proto2) that alembic writes and reads, built with
 * protobufjs reflection in code. Built in code rather than loaded from a .proto file at run time so that
 * `tsc` output is self-contained: nothing has to be copied next to dist/ for the exporter to work.
 *
 * Field numbers are the official ones; they have been stable since IR version 3, and newer fields (IR 8+:
 * functions, sparse tensors, segments, training info) are simply absent here. Repeated scalars follow proto2
 * rules: expanded unless the official schema says `[packed = true]` (only TensorProto's *_data fields do).
 */
import protobuf from 'protobufjs';

type FieldJson = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };
type MessageJson = { fields: Record<string, FieldJson>; oneofs?: Record<string, { oneof: string[] }> };

const opt = (type: string, id: number): FieldJson => ({ type, id });
const rep = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated' });
const packed = (type: string, id: number): FieldJson => ({
  type,
  id,
  rule: 'repeated',
  options: { packed: true },
});

const messages: Record<string, MessageJson> = {
  AttributeProto: {
    fields: {
      name: opt('string', 1),
      refAttrName: opt('string', 21),
      docString: opt('string', 13),
      type: opt('int32', 20),
      f: opt('float', 2),
      i: opt('int64', 3),
      s: opt('bytes', 4),
      t: opt('TensorProto', 5),
      g: opt('GraphProto', 6),
      floats: rep('float', 7),
      ints: rep('int64', 8),
      strings: rep('bytes', 9),
      tensors: rep('TensorProto', 10),
      graphs: rep('GraphProto', 11),
    },
  },
  ValueInfoProto: {
    fields: { name: opt('string', 1), type: opt('TypeProto', 2), docString: opt('string', 3) },
  },
  NodeProto: {
    fields: {
      input: rep('string', 1),
      output: rep('string', 2),
      name: opt('string', 3),
      opType: opt('string', 4),
      domain: opt('string', 7),
      attribute: rep('AttributeProto', 5),
      docString: opt('string', 6),
    },
  },
  ModelProto: {
    fields: {
      irVersion: opt('int64', 1),
      opsetImport: rep('OperatorSetIdProto', 8),
      producerName: opt('string', 2),
      producerVersion: opt('string', 3),
      domain: opt('string', 4),
      modelVersion: opt('int64', 5),
      docString: opt('string', 6),
      graph: opt('GraphProto', 7),
      metadataProps: rep('StringStringEntryProto', 14),
    },
  },
  StringStringEntryProto: {
    fields: { key: opt('string', 1), value: opt('string', 2) },
  },
  GraphProto: {
    fields: {
      node: rep('NodeProto', 1),
      name: opt('string', 2),
      initializer: rep('TensorProto', 5),
      docString: opt('string', 10),
      input: rep('ValueInfoProto', 11),
      output: rep('ValueInfoProto', 12),
      valueInfo: rep('ValueInfoProto', 13),
    },
  },
  TensorProto: {
    fields: {
      dims: rep('int64', 1),
      dataType: opt('int32', 2),
      floatData: packed('float', 4),
      int32Data: packed('int32', 5),
      stringData: rep('bytes', 6),
      int64Data: packed('int64', 7),
      name: opt('string', 8),
      docString: opt('string', 12),
      rawData: opt('bytes', 9),
      externalData: rep('StringStringEntryProto', 13),
      dataLocation: opt('int32', 14),
      doubleData: packed('double', 10),
      uint64Data: packed('uint64', 11),
    },
  },
  TensorShapeProto: {
    fields: { dim: rep('Dimension', 1) },
  },
  Dimension: {
    fields: { dimValue: opt('int64', 1), dimParam: opt('string', 2), denotation: opt('string', 3) },
    oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
  },
  TypeProto: {
    fields: { tensorType: opt('TypeProtoTensor', 1), denotation: opt('string', 6) },
    oneofs: { value: { oneof: ['tensorType'] } },
  },
  TypeProtoTensor: {
    fields: { elemType: opt('int32', 1), shape: opt('TensorShapeProto', 2) },
  },
  OperatorSetIdProto: {
    fields: { domain: opt('string', 1), version: opt('int64', 2) },
  },
};

// Nested message names (TensorShapeProto.Dimension, TypeProto.Tensor) are flattened to top-level names here:
// protobuf's wire format carries field numbers only, never type names, so the bytes are identical.
const root = protobuf.Root.fromJSON({ nested: { onnx: { nested: messages } } });
const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType codes (the official enum values). */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;

/** AttributeProto.AttributeType codes (the official enum values). */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
} as const;

/** Plain-object form of a ModelProto with camelCase field names, as protobufjs reads and writes it. */
export type ModelProtoObject = Record<string, unknown>;

/** Serialises a plain ModelProto object; throws if the object does not fit the schema. */
export function encodeModel(model: ModelProtoObject): Uint8Array {
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`ONNX model does not fit the schema: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/**
 * Parses ONNX bytes into a plain object. int64 fields become JS numbers (every int64 alembic writes — dims,
 * attribute ints, versions — is far below 2^53); bytes fields stay Uint8Array.
 */
export function decodeModel(bytes: Uint8Array): ModelProtoObject {
  const message = ModelProto.decode(bytes);
  return ModelProto.toObject(message, { longs: Number, bytes: Uint8Array, defaults: false, arrays: true });
}
