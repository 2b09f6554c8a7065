/**
 * CNN encoder (src/nets/cnn.ts) as ONNX. Weights: `embedding.weight`, `convs.{i}.weight|bias`,
 * `token_conv.weight|bias` ([out, in, kernel], the layout ONNX Conv takes as is), and `char_cnn.*` with
 * character features (char-cnn.ts, appended to the embeddings).
 *
 * The torch net right-pads texts shorter than the widest kernel to one window and max-pools each bank over
 * its real windows (those starting before max(length − k + 1, 1)). Here each bank's Conv pads k − 1 zero
 * steps at the end instead, so every bank has exactly `seq` windows and the shape stays dynamic without a
 * data-dependent Pad. Which windows are real comes from one reverse cumulative sum of the mask, shared by
 * the banks: r[j] = tokens from j to the end of the text (length − j inside it, 0 in padding), and window j
 * is real exactly when r[j] ≥ min(k, length) (window 0 always; an empty text has only equal all-zero
 * windows). At batch 1 a small CNN's time is largely per-node overhead: a two-bank CNN has 24 nodes where
 * building positions with Shape/Range and filling −∞ through transposed windows took 41.
 */
import type { CnnEncoder } from '../../nets/cnn.js';
import { int, type OnnxGraphBuilder } from '../onnx/index.js';
import { lazyEncoded, type EncoderGraph } from './encoder-graph.js';
import { withCharGraph } from './char-cnn.js';
import { reduce, unsqueeze } from './graph-ops.js';
import type { StateReader } from './weights.js';

/** Token convolution width and padding, as cnn.ts fixes them. */
const TOKEN_KERNEL = 3;

export function cnnGraph(g: OnnxGraphBuilder, encoder: CnnEncoder, w: StateReader): EncoderGraph {
  const widths = encoder.options.kernelWidths;
  const conv = (x: string, name: string, pads: [number, number]) =>
    g.op('Conv', [x, w.tensor(g, `${name}.weight`), w.tensor(g, `${name}.bias`)], { pads });
  return {
    encode: (text, mask, scope) => {
      // Called inside the lazy outputs' scope; shared by both when a task reads both.
      const emb = () =>
        withCharGraph(g, g.gather(w.tensor(g, 'embedding.weight'), text.ids), encoder.charCnn, w, text);
      let channels: string | undefined; // [batch, embedding, seq], padding positions zero
      const embedded = () =>
        (channels ??= g.op('Transpose', [g.op('Mul', [emb(), unsqueeze(g, mask.float, [-1])])], {
          perm: [0, 2, 1],
        }));
      return lazyEncoded(g, scope, {
        sequence: () => {
          const states = g.op('Relu', [
            conv(embedded(), 'token_conv', [(TOKEN_KERNEL - 1) / 2, (TOKEN_KERNEL - 1) / 2]),
          ]);
          return g.op('Transpose', [states], { perm: [0, 2, 1] });
        },
        pooled: () => {
          const real = g.scope('windows', () => {
            const m = unsqueeze(g, text.mask, [1]); // int64 [batch, 1, seq]
            const rest = g.op('CumSum', [m, g.scalarInt(2)], { reverse: int(1) });
            const length = reduce(g, 'ReduceSum', m, [2], true); // [batch, 1, 1]
            return (k: number) => g.op('GreaterOrEqual', [rest, g.op('Min', [length, g.scalarInt(k)])]);
          });
          const features = widths.map((k, i) =>
            g.scope(`convs.${i}`, () => {
              const windows = g.op('Relu', [conv(embedded(), `convs.${i}`, [0, k - 1])]); // [batch, filters, seq]
              // ReLU features are ≥ 0 and window 0 is always real, so 0 never beats a real window's maximum.
              const kept = g.op('Where', [real(k), windows, g.scalar(0)]);
              return reduce(g, 'ReduceMax', kept, [2], false);
            }),
          );
          return features.length === 1 ? features[0] : g.op('Concat', features, { axis: 1 });
        },
      });
    },
  };
}
