/**
 * BOW encoder (src/nets/bow.ts) as ONNX: embeddings → masked mean (or sum) → softsign (or tanh) → fc → ReLU,
 * or for the linear variant the masked mean itself. Hashed n-gram ids come in `input_ids` like token ids
 * (the codec appends them), so the graph is the same. With learned token weights the bag is their weighted
 * mean (exp of `token_weight.weight`, gathered by the same ids). Weights: `embedding.weight`, `fc.weight`,
 * `fc.bias`, `token_weight.weight`.
 */
import type { BowEncoder } from '../../nets/bow.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';
import { lazyEncoded, type EncoderGraph } from './encoder-graph.js';
import { maskedMean, maskedSum, weightedMean } from './graph-ops.js';
import type { StateReader } from './weights.js';

export function bowGraph(g: OnnxGraphBuilder, encoder: BowEncoder, w: StateReader): EncoderGraph {
  const o = encoder.options;
  return {
    encode: (text, mask, scope) =>
      lazyEncoded(g, scope, {
        sequence: () => g.gather(w.tensor(g, 'embedding.weight'), text.ids),
        pooled: (sequence) => {
          const bag = o.tokenWeights
            ? weightedMean(g, sequence(), tokenWeights(g, text.ids, w), mask)
            : o.pooling === 'sum'
              ? maskedSum(g, sequence(), mask)
              : maskedMean(g, sequence(), mask);
          if (o.linear) return bag;
          const squashed = o.activation === 'tanh' ? g.op('Tanh', [bag]) : g.op('Softsign', [bag]); // x / (1 + |x|)
          return g.op('Relu', [w.linear(g, squashed, 'fc')]);
        },
      }),
  };
}

/**
 * Each id's weight exp(s), [batch, seq]: the [vocab, 1] table is stored already exponentiated and flat, so the
 * graph spends one Gather on it.
 */
function tokenWeights(g: OnnxGraphBuilder, ids: string, w: StateReader): string {
  const table = w.derived(g, 'token_weight.exp', () => {
    const { data, dims } = w.read('token_weight.weight');
    return { data: data.map(Math.exp), dims: [dims[0]] };
  });
  return g.gather(table, ids, { name: 'token_weight' });
}
