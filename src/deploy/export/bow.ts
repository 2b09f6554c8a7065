/**
 * BOW encoder (src/nets/bow.ts) as ONNX: embeddings → masked mean (or sum) → softsign (or tanh) → fc → ReLU,
 * or for the linear variant the masked mean itself. Hashed n-gram ids come in `input_ids` like token ids
 * (the codec appends them), so the graph is the same. Weights: `embedding.weight`, `fc.weight`, `fc.bias`.
 */
import type { BowEncoder } from '../../nets/bow.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';
import { lazyEncoded, type EncoderGraph } from './encoder-graph.js';
import { maskedMean, maskedSum } from './graph-ops.js';
import type { StateReader } from './weights.js';

export function bowGraph(g: OnnxGraphBuilder, encoder: BowEncoder, w: StateReader): EncoderGraph {
  const o = encoder.options;
  return {
    encode: (text, mask, scope) =>
      lazyEncoded(g, scope, {
        sequence: () => g.gather(w.tensor(g, 'embedding.weight'), text.ids),
        pooled: (sequence) => {
          const bag = o.pooling === 'sum' ? maskedSum(g, sequence(), mask) : maskedMean(g, sequence(), mask);
          if (o.linear) return bag;
          const squashed = o.activation === 'tanh' ? g.op('Tanh', [bag]) : g.op('Softsign', [bag]); // x / (1 + |x|)
          return g.op('Relu', [w.linear(g, squashed, 'fc')]);
        },
      }),
  };
}
