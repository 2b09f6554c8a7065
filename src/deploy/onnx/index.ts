/** ONNX export and inference: build graphs in TypeScript, quantise them, write them, run them. */
export { float, floats, int, ints, str, strs, tensorAttr, type AttrValue, type Attrs } from './attributes.js';
export {
  OnnxGraphBuilder,
  type BuilderOptions,
  type ModelOptions,
  type NodeOptions,
  type OnnxInitializer,
  type OnnxNode,
  type ValueInfo,
  type VectorInput,
  type WeightInput,
} from './graph-builder.js';
export { quantizeDynamic, quantizeWeight, type QuantizeOptions, type QuantizeReport } from './quantize.js';
export { decodeModel } from './schema.js';
export {
  loadSession,
  OnnxSession,
  type RunOutput,
  type SessionOptions,
  type TensorValue,
} from './session.js';
export type { Dim, ElemType, TensorData } from './tensor-types.js';
export { writeOnnx } from './write-onnx.js';
