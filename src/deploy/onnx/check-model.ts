/**
 * Checks an ONNX model before it is served or written, where onnxruntime would accept it and then give wrong
 * answers or crash per request: float initializers holding NaN, or ±Infinity in a weight tensor (garbled
 * bytes give NaN probabilities with exit 0), and a vocabulary with more tokens than the embedding has rows
 * (onnxruntime's Gather fails with "indices element out of data bounds" on the first text with a high id).
 */
import { UserError } from '../../util/errors.js';
import { describeNonFinite, firstNaN, firstNonFinite } from '../../util/finite.js';
import { DataType, decodeModel } from './schema.js';

/** The subset of a decoded TensorProto read here (protobufjs plain object, camelCase, defaults omitted). */
interface TensorProtoObject {
  name?: string;
  dims?: number[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  doubleData?: number[];
}

interface NodeObject {
  opType?: string;
  input?: string[];
  output?: string[];
  attribute?: { name?: string; t?: TensorProtoObject }[];
}

export interface CheckModelOptions {
  /** Tokens of the vocabulary fed to the graph's id inputs; checked against the embedding rows. */
  vocab?: { size: number; file: string };
  /** Graph inputs holding token ids (Gather indices into an embedding). */
  idInputs?: readonly string[];
  /** What the user should do about a non-finite value (default: export again). */
  remedy?: string;
}

/** Throws a UserError naming `file` and the tensor for the first problem found. */
export function checkOnnxModel(bytes: Uint8Array, file: string, opts: CheckModelOptions = {}): void {
  let model: { graph?: { initializer?: TensorProtoObject[]; node?: NodeObject[] } };
  try {
    model = decodeModel(bytes) as typeof model;
  } catch (e) {
    throw new UserError(`${file}: not a readable ONNX model: ${(e as Error).message}`);
  }
  const initializers = model.graph?.initializer ?? [];
  const nodes = model.graph?.node ?? [];
  const remedy = opts.remedy ?? 'the model file is damaged: export it again';
  for (const t of initializers) checkFiniteTensor(t, file, `initializer "${t.name ?? '?'}"`, remedy);
  for (const n of nodes) {
    if (n.opType !== 'Constant') continue;
    for (const a of n.attribute ?? []) {
      if (a.t) checkFiniteTensor(a.t, file, `constant "${n.output?.[0] ?? '?'}"`, remedy);
    }
  }
  if (opts.vocab) checkVocabFits(initializers, nodes, file, opts.vocab, opts.idInputs ?? []);
}

function floatValues(t: TensorProtoObject): ArrayLike<number> | undefined {
  const raw = t.rawData;
  if (t.dataType === DataType.FLOAT) {
    if (!raw) return t.floatData ?? [];
    // Copied (new Uint8Array, not slice: a Buffer's slice is a view): a protobuf bytes field is a view at any
    // offset of the file's buffer, not aligned for a Float32Array.
    return new Float32Array(new Uint8Array(raw).buffer, 0, raw.byteLength >> 2);
  }
  if (t.dataType === DataType.DOUBLE) {
    if (!raw) return t.doubleData ?? [];
    return new Float64Array(new Uint8Array(raw).buffer, 0, raw.byteLength >> 3);
  }
  return undefined;
}

function checkFiniteTensor(t: TensorProtoObject, file: string, what: string, remedy: string): void {
  const values = floatValues(t);
  if (!values) return;
  // A one-value constant may be ±Infinity by design (masked max fills with -Infinity); NaN never is.
  const i = values.length === 1 ? firstNaN(values) : firstNonFinite(values);
  if (i >= 0) {
    throw new UserError(
      `${file}: ${what}: element ${i} of ${values.length} is ${describeNonFinite(values[i])}; ${remedy}`,
    );
  }
}

/** Every embedding looked up by a token-id input must have a row for each token of the vocabulary. */
function checkVocabFits(
  initializers: TensorProtoObject[],
  nodes: NodeObject[],
  file: string,
  vocab: { size: number; file: string },
  idInputs: readonly string[],
): void {
  const byName = new Map(initializers.map((t) => [t.name, t]));
  for (const n of nodes) {
    if (n.opType !== 'Gather' || !idInputs.includes(n.input?.[1] ?? '')) continue;
    const table = byName.get(n.input?.[0]);
    const rows = table?.dims?.[0];
    if (rows !== undefined && vocab.size > rows) {
      throw new UserError(
        `${vocab.file}: ${vocab.size} tokens, but the graph's embedding "${table!.name}" in ${file} has only ` +
          `${rows} rows: this vocab.txt does not belong to this model (export it again)`,
      );
    }
  }
}
