/**
 * GRU/LSTM encoder (src/nets/rnn-encoder.ts) as ONNX: embeddings → one ONNX LSTM/GRU node per layer (both
 * directions in one node) → [masked max ; masked mean]. Weights: `embedding.weight` and torch's
 * `rnn.weight_ih_l{k}[_reverse]`, `rnn.weight_hh_…`, `rnn.bias_ih_…`, `rnn.bias_hh_…`.
 *
 * Torch and ONNX order the gate blocks of the stacked weight matrices differently:
 *   LSTM  torch i, f, g, o   →  ONNX i, o, f, c  (c is torch's g)
 *   GRU   torch r, z, n      →  ONNX z, r, h
 * and torch's GRU applies the reset gate after the hidden matmul, which is ONNX's linear_before_reset=1.
 * `sequence_lens` (int32, from the mask) keeps padding out of the recurrence, as packing does in torch: the
 * reverse direction starts at each text's last real token and outputs past a text's end are zero.
 * onnxruntime's CPU kernels take only time-major input (layout 0), hence the transposes.
 * With character features the char CNN's word vectors (char-cnn.ts) are concatenated to the embeddings.
 */
import type { RnnEncoder } from '../../nets/rnn-encoder.js';
import { int, str, type OnnxGraphBuilder } from '../onnx/index.js';
import { lazyEncoded, type EncoderGraph } from './encoder-graph.js';
import { withCharGraph } from './char-cnn.js';
import { cast, maskedMax, maskedMean } from './graph-ops.js';
import type { StateReader, WeightArray } from './weights.js';

/** Torch gate block → position in the ONNX stacking. */
const GATE_ORDER = { lstm: [0, 3, 1, 2], gru: [1, 0, 2] } as const;

export function rnnGraph(g: OnnxGraphBuilder, encoder: RnnEncoder, w: StateReader): EncoderGraph {
  const o = encoder.options;
  const dirs = o.bidirectional ? ['', '_reverse'] : [''];
  const order = GATE_ORDER[o.cell];
  const H = o.hiddenSize;

  /** One layer's W, R and B in ONNX form: [dirs, gates·H, in], [dirs, gates·H, H], [dirs, 2·gates·H]. */
  const layerWeights = (layer: number) => {
    const stack = (kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh') =>
      dirs.map((d) => reorderGates(w.read(`rnn.${kind}_l${layer}${d}`), order, H));
    const W = w.derived(g, `rnn.onnx_W_l${layer}`, () => concatDirs(stack('weight_ih')));
    const R = w.derived(g, `rnn.onnx_R_l${layer}`, () => concatDirs(stack('weight_hh')));
    const B = w.derived(g, `rnn.onnx_B_l${layer}`, () => {
      const ih = stack('bias_ih');
      const hh = stack('bias_hh');
      return concatDirs(ih.map((b, i) => ({ data: concat(b.data, hh[i].data), dims: [2 * b.dims[0]] })));
    });
    return { W, R, B };
  };

  return {
    encode: (text, mask, scope) =>
      lazyEncoded(g, scope, {
        sequence: () => {
          const seqLens = cast(g, mask.lengths, 'int32');
          const words = g.gather(w.tensor(g, 'embedding.weight'), text.ids); // [batch, seq, E]
          const emb = withCharGraph(g, words, encoder.charCnn, w, text); // [batch, seq, E + char filters]
          let x = g.op('Transpose', [emb], { perm: [1, 0, 2] }); // [seq, batch, E]
          for (let layer = 0; layer < o.numLayers; layer++) {
            const { W, R, B } = layerWeights(layer);
            const attrs = {
              hidden_size: int(H),
              direction: str(o.bidirectional ? 'bidirectional' : 'forward'),
              ...(o.cell === 'gru' ? { linear_before_reset: int(1) } : {}),
            };
            const [y] = g.node(o.cell === 'lstm' ? 'LSTM' : 'GRU', [x, W, R, B, seqLens], 1, attrs, {
              name: `rnn_l${layer}`,
            }); // [seq, dirs, batch, H]
            const timeMajor = g.op('Transpose', [y], { perm: [0, 2, 1, 3] }); // [seq, batch, dirs, H]
            x = g.op('Reshape', [timeMajor, g.int64s([0, 0, dirs.length * H], 'shape')]);
          }
          return g.op('Transpose', [x], { perm: [1, 0, 2] }); // [batch, seq, dirs·H]
        },
        pooled: (sequence) =>
          g.op('Concat', [maskedMax(g, sequence(), mask.bool), maskedMean(g, sequence(), mask)], { axis: 1 }),
      }),
  };
}

/** Reorders the gate blocks (rows of `hidden` each) of a stacked [gates·H, …] weight or [gates·H] bias. */
export function reorderGates(w: WeightArray, order: readonly number[], hidden: number): WeightArray {
  const rowSize = w.data.length / w.dims[0];
  const block = hidden * rowSize;
  const out = new Float32Array(w.data.length);
  order.forEach((from, to) => out.set(w.data.subarray(from * block, (from + 1) * block), to * block));
  return { data: out, dims: w.dims };
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Stacks per-direction arrays of one shape into [dirs, …]. */
function concatDirs(parts: WeightArray[]): WeightArray {
  const out = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return { data: out, dims: [parts.length, ...parts[0].dims] };
}
