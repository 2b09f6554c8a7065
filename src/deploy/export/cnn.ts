/**
 * CNN encoder (src/nets/cnn.ts) as ONNX. Weights: `embedding.weight`, `convs.{i}.weight|bias`,
 * `token_conv.weight|bias` ([out, in, kernel], the layout ONNX Conv takes as is).
 *
 * The torch net right-pads texts shorter than the widest kernel to one window and max-pools each bank over
 * its real windows (those starting before max(length − k + 1, 1)). Here each bank's Conv pads k − 1 zero
 * steps at the end instead, so every bank has exactly `seq` windows, one positions row serves all of them,
 * and the shape stays dynamic without a data-dependent Pad; the windows that reach past the text are
 * masked out. The mask multiplies rather than filling −∞: after ReLU every feature is ≥ 0 and window 0 is
 * always real, so a zeroed window never wins a max it should not. At batch 1 a small CNN's time is largely
 * per-node overhead, and this is a third fewer nodes than masking with Where and transposing each bank.
 */
import type { CnnEncoder } from '../../nets/cnn.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';
import { lazyEncoded, type EncoderGraph } from './encoder-graph.js';
import { cast, positions, reduce, unsqueeze } from './graph-ops.js';
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
      const emb = () => g.gather(w.tensor(g, 'embedding.weight'), text.ids);
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
          const starts = positions(g, text.ids, 1); // [1, seq]
          const features = widths.map((k, i) =>
            g.scope(`convs.${i}`, () => {
              const windows = g.op('Relu', [conv(embedded(), `convs.${i}`, [0, k - 1])]); // [batch, filters, seq]
              const limit = g.op('Max', [g.op('Sub', [mask.lengths, g.scalarInt(k - 1)]), g.scalarInt(1)]);
              const real = cast(g, g.op('Less', [starts, unsqueeze(g, limit, [1])]), 'float32');
              return reduce(g, 'ReduceMax', g.op('Mul', [windows, unsqueeze(g, real, [1])]), [2], false);
            }),
          );
          return features.length === 1 ? features[0] : g.op('Concat', features, { axis: 1 });
        },
      });
    },
  };
}
