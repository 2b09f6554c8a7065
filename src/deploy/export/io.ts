/**
 * The contract between an exported graph and whoever feeds it (OnnxPredictor, the service, the browser page):
 * input and output names, element types and shapes, recorded in the exported manifest's `onnx` section.
 *
 * Inputs, all [batch, seq] with dynamic batch and sequence axes, right-padded:
 *   input_ids        int64  token ids from the model's vocab.txt, padded with [PAD]
 *   attention_mask   int64  1 at real tokens, 0 at padding — int64 rather than bool because that is what
 *                           Hugging Face tokenisers and exports produce, so existing client code feeds it as
 *                           is, and every ONNX runtime (web included) takes int64 from plain JS typed arrays
 *   token_type_ids   int64  segment ids, Transformer pair tasks only
 *   input_ids_b, attention_mask_b   [batch, seq_b]: the second text of a pair for the siamese nets (BOW,
 *                           CNN, GRU, LSTM), padded on its own
 *   numeric_features float32 [batch, n]  the config's numeric_features in order, raw values: the graph
 *                           standardises them with the training statistics
 * The RNNs' sequence lengths (and the CNN's window limits) are computed in the graph from attention_mask,
 * so every net takes the same inputs and they can never disagree with the mask.
 *
 * Outputs are the task's: classification `logits`, `probabilities`; sequence labelling `emissions` (+ the
 * CRF's `transitions`, `start_transitions`, `end_transitions`); matching `raw_score`, `score`; reading
 * comprehension `start_logits`, `end_logits` — each described in the task's exporter file.
 */
import type { Dim, ElemType, TensorValue } from '../onnx/index.js';

export const INPUT_IDS = 'input_ids';
export const ATTENTION_MASK = 'attention_mask';
export const TOKEN_TYPE_IDS = 'token_type_ids';
export const INPUT_IDS_B = 'input_ids_b';
export const ATTENTION_MASK_B = 'attention_mask_b';
export const NUMERIC_FEATURES = 'numeric_features';
/** Each token's character ids [batch, seq, chars] (model.char_features). */
export const CHAR_IDS = 'char_ids';
/** Classification outputs. */
export const LOGITS = 'logits';
export const PROBABILITIES = 'probabilities';

export interface OnnxValueSpec {
  name: string;
  type: ElemType;
  dims: Dim[];
}

/** The `onnx` section an export adds to alembic-model.json. */
export interface OnnxSection {
  /** The model file, relative to the directory. */
  file: string;
  opset: number;
  int8: boolean;
  /** With int8: 8 (full range) or 7 (reduced range) bits per weight; absent in older exports (8). */
  int8WeightBits?: 7 | 8;
  inputs: OnnxValueSpec[];
  outputs: OnnxValueSpec[];
}

/**
 * Token-id lists right-padded into [batch, seq] ids, mask and (optionally) segment ids.
 *
 * The int64 tensors are written through 32-bit views of their buffers (low word; ids are small and
 * non-negative, so the high word stays 0): a BigInt per token costs a heap allocation, which at batch 1 is
 * a visible share of a BOW's whole prediction.
 */
export function padIds(
  seqs: readonly (readonly number[])[],
  padId: number,
  typeSeqs?: readonly (readonly number[] | undefined)[],
): { ids: TensorValue; mask: TensorValue; typeIds?: TensorValue } {
  const batch = seqs.length;
  const time = Math.max(1, ...seqs.map((s) => s.length));
  const ids = new Int64Writer(batch * time, padId);
  const mask = new Int64Writer(batch * time, 0);
  const types = typeSeqs ? new Int64Writer(batch * time, 0) : undefined;
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) {
      ids.set(b * time + t, s[t]);
      mask.set(b * time + t, 1);
      types?.set(b * time + t, typeSeqs![b]?.[t] ?? 0);
    }
  });
  const dims = [batch, time];
  return {
    ids: { data: ids.values, dims },
    mask: { data: mask.values, dims },
    ...(types ? { typeIds: { data: types.values, dims } } : {}),
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A BigInt64Array of small non-negative integers, written without making a BigInt per element. */
class Int64Writer {
  readonly values: BigInt64Array;
  private readonly low: Int32Array | undefined;

  constructor(length: number, fill: number) {
    this.values = new BigInt64Array(length);
    this.low = LITTLE_ENDIAN ? new Int32Array(this.values.buffer) : undefined;
    if (fill !== 0) for (let i = 0; i < length; i++) this.set(i, fill);
  }

  set(i: number, v: number): void {
    if (this.low && v >= 0 && v <= 0x7fffffff) {
      this.low[2 * i] = v;
      this.low[2 * i + 1] = 0;
    } else this.values[i] = BigInt(v);
  }
}
