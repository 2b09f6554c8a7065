/**
 * CNN encoder (src/nets/cnn.ts) as ONNX. Weights: `embedding.weight`, `convs.{i}.weight|bias`,
 * `token_conv.weight|bias` ([out, in, kernel], the layout ONNX Conv takes as is).
 *
 * The torch net right-pads texts shorter than the widest kernel to one window; here every text is padded
 * with widest − 1 zero steps instead, which keeps the shape dynamic without a data-dependent Pad. The extra
 * windows start past length − k and are masked out of the max exactly as batch padding is (a text shorter
 * than k keeps its first window, which reads the same zeros in both forms), so the pooled features agree.
 */
import type { CnnEncoder } from '../../nets/cnn.js';
import { str, type OnnxGraphBuilder } from '../onnx/index.js';
import { lazyEncoded, type EncoderGraph } from './encoder-graph.js';
import { maskedMax, positionsBelow, unsqueeze } from './graph-ops.js';
import type { StateReader } from './weights.js';

/** Token convolution width and padding, as cnn.ts fixes them. */
const TOKEN_KERNEL = 3;

export function cnnGraph(g: OnnxGraphBuilder, encoder: CnnEncoder, w: StateReader): EncoderGraph {
  const widths = encoder.options.kernelWidths;
  const widest = Math.max(...widths);
  const conv = (x: string, name: string, pad: number) =>
    g.op('Conv', [x, w.tensor(g, `${name}.weight`), w.tensor(g, `${name}.bias`)], { pads: [pad, pad] });
  return {
    encode: (text, mask, scope) => {
      // Called inside the lazy outputs' scope; shared by both when a task reads both.
      const emb = () => g.gather(w.tensor(g, 'embedding.weight'), text.ids);
      let channels: string | undefined; // [batch, embedding, seq], padding positions zero
      const embedded = () =>
        (channels ??= g.op('Transpose', [g.op('Mul', [emb(), unsqueeze(g, mask.float, [-1])])], {
          perm: [0, 2, 1],
        }));
      return lazyEncoded(g, scope, {
        sequence: () => {
          const states = g.op('Relu', [conv(embedded(), 'token_conv', (TOKEN_KERNEL - 1) / 2)]);
          return g.op('Transpose', [states], { perm: [0, 2, 1] });
        },
        pooled: () => {
          const padded =
            widest > 1
              ? g.op('Pad', [embedded(), g.int64s([0, 0, 0, 0, 0, widest - 1], 'pads')], {
                  mode: str('constant'),
                })
              : embedded();
          const features = widths.map((k, i) =>
            g.scope(`convs.${i}`, () => {
              const windows = g.op('Transpose', [g.op('Relu', [conv(padded, `convs.${i}`, 0)])], {
                perm: [0, 2, 1],
              }); // [batch, windows, filters]
              const starts = g.op('Max', [
                g.op('Sub', [mask.lengths, g.constant(new BigInt64Array([BigInt(k - 1)]), [], 'k_minus_1')]),
                g.constant(new BigInt64Array([1n]), [], 'one'),
              ]);
              return maskedMax(g, windows, positionsBelow(g, starts, windows, 1));
            }),
          );
          return features.length === 1 ? features[0] : g.op('Concat', features, { axis: 1 });
        },
      });
    },
  };
}
